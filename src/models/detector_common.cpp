#include "models/detector_common.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "pipeline/face_align.hpp"

namespace facefleet::models::detail {
namespace {

float Iou(const Box& a, const Box& b) {
  const float x1 = std::max(a.x, b.x);
  const float y1 = std::max(a.y, b.y);
  const float x2 = std::min(a.x + a.width, b.x + b.width);
  const float y2 = std::min(a.y + a.height, b.y + b.height);
  const float inter = std::max(0.0F, x2 - x1) * std::max(0.0F, y2 - y1);
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

class OnnxDetector final : public FaceDetector {
 public:
  OnnxDetector(std::unique_ptr<runtime::Session> session, const DetectorOptions& options, DetectorRecipe recipe)
      : session_(std::move(session)), options_(options), recipe_(std::move(recipe)) {}

  std::string_view Name() const override { return session_->info().name; }

  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) const override {
    cv::Mat frame = bgr;
    if (frame.channels() == 4) cv::cvtColor(bgr, frame, cv::COLOR_BGRA2BGR);
    const Letterbox box = MakeLetterbox(frame, options_.size);
    const std::vector<float> planes = BgrPlanes(box.canvas, recipe_.mean, recipe_.scale);
    const runtime::TensorView input{planes.data(), ElementType::kFloat32, {1, 3, options_.size, options_.size}};
    auto outputs = session_->Run(std::span(&input, 1));
    if (!outputs.ok()) return outputs.status();
    std::vector<Detection> found = recipe_.decode(*outputs, options_.size, options_.score_threshold);
    found = Nms(std::move(found), options_.nms_iou);
    Unletterbox(found, box);
    return found;
  }

 private:
  std::unique_ptr<runtime::Session> session_;
  DetectorOptions options_;
  DetectorRecipe recipe_;
};

}  // namespace

Letterbox MakeLetterbox(const cv::Mat& bgr, int size) {
  Letterbox out;
  const double ratio = std::min({1.0, static_cast<double>(size) / bgr.cols, static_cast<double>(size) / bgr.rows});
  cv::Mat resized = bgr;
  if (ratio < 1.0) {
    cv::resize(
        bgr, resized,
        cv::Size(std::max(1, static_cast<int>(bgr.cols * ratio)), std::max(1, static_cast<int>(bgr.rows * ratio))));
  }
  out.canvas = cv::Mat::zeros(size, size, CV_8UC3);
  resized.copyTo(out.canvas(cv::Rect(0, 0, resized.cols, resized.rows)));
  out.scale_x = static_cast<float>(bgr.cols) / static_cast<float>(resized.cols);
  out.scale_y = static_cast<float>(bgr.rows) / static_cast<float>(resized.rows);
  return out;
}

std::vector<float> BgrPlanes(const cv::Mat& canvas, float mean, float scale) {
  const float alpha = 1.0F / scale, beta = -mean / scale;  // (x - mean) / scale
  return pipeline::ToPlanes(canvas, false, {alpha, alpha, alpha}, {beta, beta, beta});
}

std::vector<Detection> Nms(std::vector<Detection> detections, float iou) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& d : detections) {
    const bool overlaps =
        std::any_of(kept.begin(), kept.end(), [&](const Detection& k) { return Iou(k.box, d.box) > iou; });
    if (!overlaps) kept.push_back(d);
  }
  return kept;
}

std::vector<Detection> DecodeAnchorOutputs(const std::vector<runtime::Tensor>& outputs, int size, float threshold) {
  std::vector<Detection> found;
  constexpr std::array<int, 3> kStrides = {8, 16, 32};
  constexpr int kAnchors = 2;
  for (std::size_t k = 0; k < kStrides.size(); ++k) {
    const int stride = kStrides[k];
    const int cols = size / stride;
    const auto& scores = outputs[k].data;
    const auto& boxes = outputs[k + 3].data;
    const auto& points = outputs[k + 6].data;
    const std::size_t count = std::min<std::size_t>(scores.size(), static_cast<std::size_t>(cols * cols * kAnchors));
    for (std::size_t i = 0; i < count; ++i) {
      if (scores[i] < threshold) continue;
      const int cell = static_cast<int>(i) / kAnchors;  // anchors are duplicated per cell, consecutively
      const int column = cell % cols;
      const int row = cell / cols;
      const auto cx = static_cast<float>(column * stride);
      const auto cy = static_cast<float>(row * stride);
      Detection d;
      d.score = scores[i];
      const float* b = &boxes[i * 4];
      const float x1 = cx - b[0] * stride, y1 = cy - b[1] * stride;
      const float x2 = cx + b[2] * stride, y2 = cy + b[3] * stride;
      d.box = {x1, y1, x2 - x1, y2 - y1};
      for (int p = 0; p < 5; ++p) {
        d.landmark5[p] = {cx + points[i * 10 + p * 2] * stride, cy + points[i * 10 + p * 2 + 1] * stride};
      }
      d.has_landmark5 = true;
      found.push_back(d);
    }
  }
  return found;
}

void Unletterbox(std::vector<Detection>& detections, const Letterbox& letterbox) {
  for (Detection& d : detections) {
    d.box = {d.box.x * letterbox.scale_x, d.box.y * letterbox.scale_y, d.box.width * letterbox.scale_x,
             d.box.height * letterbox.scale_y};
    for (Point2& p : d.landmark5) p = {p.x * letterbox.scale_x, p.y * letterbox.scale_y};
  }
}

std::unique_ptr<FaceDetector> MakeOnnxDetector(std::unique_ptr<runtime::Session> session,
                                               const DetectorOptions& options, DetectorRecipe recipe) {
  return std::make_unique<OnnxDetector>(std::move(session), options, std::move(recipe));
}

}  // namespace facefleet::models::detail
