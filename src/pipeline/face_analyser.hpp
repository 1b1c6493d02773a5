// Face analysis: detect -> landmarks -> Face values (box, score, 68 and 5 points).
#pragma once

#include <memory>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "facefleet/engine.hpp"
#include "facefleet/types.hpp"
#include "models/face_models.hpp"

namespace facefleet::pipeline {

// The 5 alignment points from the 68: eye centres (mean of each eye's six points), nose tip (30), mouth
// corners (48, 54); ordered as facefleet::Landmark5.
std::array<Point2, 5> Landmark5From68(const models::Landmarks68& points);

// Owns a detector and a landmarker. Thread-safe: Analyze is const and the models are.
class FaceAnalyser {
 public:
  FaceAnalyser(std::unique_ptr<models::FaceDetector> detector, std::unique_ptr<models::FaceLandmarker68> landmarker)
      : detector_(std::move(detector)), landmarker_(std::move(landmarker)) {}

  // All faces in `bgr` with landmarks; adds stage times to `timings` when given.
  Result<std::vector<Face>> Analyze(const cv::Mat& bgr, StageTimings* timings = nullptr) const;

 private:
  std::unique_ptr<models::FaceDetector> detector_;
  std::unique_ptr<models::FaceLandmarker68> landmarker_;
};

}  // namespace facefleet::pipeline
