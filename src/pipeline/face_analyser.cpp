#include "pipeline/face_analyser.hpp"

#include "core/stopwatch.hpp"

namespace facefleet::pipeline {
namespace {

Point2 Mean(const models::Landmarks68& points, int first, int count) {
  Point2 sum;
  for (int i = first; i < first + count; ++i) {
    sum.x += points[i].x;
    sum.y += points[i].y;
  }
  return {sum.x / static_cast<float>(count), sum.y / static_cast<float>(count)};
}

}  // namespace

std::array<Point2, 5> Landmark5From68(const models::Landmarks68& points) {
  return {Mean(points, 36, 6), Mean(points, 42, 6), points[30], points[48], points[54]};
}

Result<std::vector<Face>> FaceAnalyser::Analyze(const cv::Mat& bgr, StageTimings* timings) const {
  core::Stopwatch watch;
  auto detections = detector_->Detect(bgr);
  if (!detections.ok()) return detections.status();
  if (timings != nullptr) timings->detect_ms += watch.LapMs();
  std::vector<Box> boxes;
  boxes.reserve(detections->size());
  for (const auto& d : *detections) boxes.push_back(d.box);
  auto landmarks = landmarker_->Landmark(bgr, boxes);
  if (!landmarks.ok()) return landmarks.status();
  if (timings != nullptr) timings->landmark_ms += watch.LapMs();
  std::vector<Face> faces(detections->size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    faces[i].box = (*detections)[i].box;
    faces[i].score = (*detections)[i].score;
    const models::Detection& d = (*detections)[i];
    faces[i].landmark68 = (*landmarks)[i].points;
    faces[i].has_landmark68 = true;
    const bool trust_68 = (*landmarks)[i].score > landmarker_score_ || !d.has_landmark5;
    faces[i].landmark5 = trust_68 ? Landmark5From68(faces[i].landmark68) : d.landmark5;
  }
  return faces;
}

}  // namespace facefleet::pipeline
