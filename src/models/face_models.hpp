// Small interfaces every face model implements, classic (dlib) and neural (ONNX) alike.
//
// Contract shared by all implementations: inputs are 8-bit BGR cv::Mat frames; outputs are in the pixel
// coordinates of that frame; methods are const and safe to call from several threads at once (an
// implementation that wraps a non-reentrant object must pool or clone it internally).
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "facefleet/status.hpp"
#include "facefleet/types.hpp"

namespace facefleet::models {

struct Detection {
  Box box;
  float score = 0;
};

using Landmarks68 = std::array<Point2, 68>;

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  virtual std::string_view Name() const = 0;
  // Faces in `bgr`, in no particular order.
  virtual Result<std::vector<Detection>> Detect(const cv::Mat& bgr) const = 0;
};

class FaceLandmarker68 {
 public:
  virtual ~FaceLandmarker68() = default;
  virtual std::string_view Name() const = 0;
  // 68 landmarks for each box (same order as `boxes`).
  virtual Result<std::vector<Landmarks68>> Landmark(const cv::Mat& bgr, std::span<const Box> boxes) const = 0;
};

// dlib's HOG + linear SVM frontal face detector. It runs on a grey copy whose longer side is at most
// `detector_size` pixels and maps boxes back; if that finds nothing it retries once at twice the size.
std::unique_ptr<FaceDetector> CreateDlibHogDetector(int detector_size);

// dlib's ensemble-of-regression-trees 68-point predictor loaded from `path` (libdlib-data's
// shape_predictor_68_face_landmarks.dat). Fails with kModelUnavailable naming the file.
Result<std::unique_ptr<FaceLandmarker68>> CreateDlibShapePredictor(const std::string& path);

}  // namespace facefleet::models
