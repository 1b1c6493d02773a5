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

// A detector plus a 68-point landmarker (shared, read-only). Thread-safe.
//
// Alignment points follow FaceFusion's "5/68" rule: the 5 points derived from the 68 landmarks when the
// landmarker's score exceeds `landmarker_score` (dlib's predictor always does), otherwise the detector's own
// 5 points (classic HOG has none, so its faces always use the 68).
class FaceAnalyser {
 public:
  FaceAnalyser(std::shared_ptr<const models::FaceDetector> detector,
               std::shared_ptr<const models::FaceLandmarker68> landmarker, float landmarker_score = 0.5F)
      : detector_(std::move(detector)), landmarker_(std::move(landmarker)), landmarker_score_(landmarker_score) {}

  // All faces in `bgr` with landmarks; adds stage times to `timings` when given.
  Result<std::vector<Face>> Analyze(const cv::Mat& bgr, StageTimings* timings = nullptr) const;

 private:
  std::shared_ptr<const models::FaceDetector> detector_;
  std::shared_ptr<const models::FaceLandmarker68> landmarker_;
  float landmarker_score_;
};

}  // namespace facefleet::pipeline
