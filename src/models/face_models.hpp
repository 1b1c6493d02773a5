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
  std::array<Point2, 5> landmark5{};  // valid when has_landmark5 (neural detectors give them)
  bool has_landmark5 = false;
};

using Landmarks68 = std::array<Point2, 68>;

// 68 landmarks with the landmarker's confidence in [0, 1] (1 for landmarkers without a score).
struct Landmarks68Scored {
  Landmarks68 points{};
  float score = 1;
};

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  virtual std::string_view Name() const = 0;
  // Faces in `bgr`, in no particular order.
  virtual Result<std::vector<Detection>> Detect(const cv::Mat& bgr) const = 0;
  // Loads whatever the detector loads on first use, now (e.g. on another thread while a landmarker loads).
  // Thread-safe; a no-op for detectors that load when created.
  virtual void Warm() const {}
};

class FaceLandmarker68 {
 public:
  virtual ~FaceLandmarker68() = default;
  virtual std::string_view Name() const = 0;
  // 68 landmarks and a confidence for each box (same order as `boxes`).
  virtual Result<std::vector<Landmarks68Scored>> Landmark(const cv::Mat& bgr, std::span<const Box> boxes) const = 0;
};

// A landmarker that estimates 68 points from the 5 alignment points (fan_68_5).
class FaceLandmarker5To68 {
 public:
  virtual ~FaceLandmarker5To68() = default;
  virtual Result<Landmarks68> Estimate(const std::array<Point2, 5>& landmark5) const = 0;
};

// ArcFace identity embedding of one face: raw and L2-normalised.
struct Embedding {
  std::vector<float> raw;
  std::vector<float> normalized;
};

class FaceRecognizer {
 public:
  virtual ~FaceRecognizer() = default;
  virtual Result<Embedding> Embed(const cv::Mat& bgr, const std::array<Point2, 5>& landmark5) const = 0;
};

// dlib's HOG + linear SVM frontal face detector. It runs on a grey copy whose longer side is at most
// `detector_size` pixels and maps boxes back; if that finds nothing it retries once at twice the size.
std::unique_ptr<FaceDetector> CreateDlibHogDetector(int detector_size);

// dlib's ensemble-of-regression-trees 68-point predictor loaded from `path` (libdlib-data's
// shape_predictor_68_face_landmarks.dat). Fails with kModelUnavailable naming the file.
Result<std::unique_ptr<FaceLandmarker68>> CreateDlibShapePredictor(const std::string& path);
// The same model read by dlib's own (slow) reader only: the reference the fast reader is tested against.
Result<std::unique_ptr<FaceLandmarker68>> CreateDlibShapePredictorWithDlibReader(const std::string& path);
// The cheap part of CreateDlibShapePredictor's checks (the file exists), with the same error: lets a caller
// fail fast and defer the ~1 s load to first use.
Status CheckDlibShapePredictorPath(const std::string& path);

}  // namespace facefleet::models
