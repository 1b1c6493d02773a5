// 2dfan4 (68 points): a 256x256 crop scaled so the box's longer side is 195 px and centred; BGR / 255;
// CLAHE on lightness for dark crops. Output 0 (1,68,3) holds points in 64x64 heatmap units; output 1 the
// heatmaps, whose mean peak value is the confidence (mapped [0, 0.9] -> [0, 1]).
#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "models/onnx_models.hpp"
#include "pipeline/face_align.hpp"

namespace facefleet::models {
namespace {

constexpr int kSize = 256;

cv::Mat CropAffine(const Box& box) {
  const double scale = 195.0 / std::max({box.width, box.height, 1.0F});
  const double tx = (kSize - (2.0 * box.x + box.width) * scale) / 2.0;
  const double ty = (kSize - (2.0 * box.y + box.height) * scale) / 2.0;
  return (cv::Mat_<double>(2, 3) << scale, 0, tx, 0, scale, ty);
}

// FaceFusion brightens very dark crops before landmarking.
void EqualizeIfDark(cv::Mat& crop) {
  cv::Mat lab;
  cv::cvtColor(crop, lab, cv::COLOR_BGR2Lab);
  std::vector<cv::Mat> planes;
  cv::split(lab, planes);
  if (cv::mean(planes[0])[0] >= 30) return;
  cv::createCLAHE(2.0)->apply(planes[0], planes[0]);
  cv::merge(planes, lab);
  cv::cvtColor(lab, crop, cv::COLOR_Lab2BGR);
}

class Fan2dfan4 final : public FaceLandmarker68 {
 public:
  explicit Fan2dfan4(std::unique_ptr<runtime::Session> session) : session_(std::move(session)) {}
  std::string_view Name() const override { return "2dfan4"; }

  Result<std::vector<Landmarks68Scored>> Landmark(const cv::Mat& bgr, std::span<const Box> boxes) const override {
    std::vector<Landmarks68Scored> out;
    for (const Box& box : boxes) {
      const cv::Mat affine = CropAffine(box);
      cv::Mat crop;
      cv::warpAffine(bgr, crop, affine, cv::Size(kSize, kSize));
      EqualizeIfDark(crop);
      constexpr float kUnit = 1.0F / 255.0F;  // BGR planes in [0, 1]
      std::vector<float> input = pipeline::ToPlanes(crop, false, {kUnit, kUnit, kUnit}, {0.0F, 0.0F, 0.0F});
      const runtime::TensorView view{input.data(), ElementType::kFloat32, {1, 3, kSize, kSize}};
      auto result = session_->Run(std::span(&view, 1));
      if (!result.ok()) return result.status();
      out.push_back(Decode(*result, affine));
    }
    return out;
  }

 private:
  static Landmarks68Scored Decode(const std::vector<runtime::Tensor>& outputs, const cv::Mat& affine) {
    cv::Mat inverse;
    cv::invertAffineTransform(affine, inverse);
    Landmarks68Scored result;
    std::vector<cv::Point2f> crop_points;
    crop_points.reserve(68);
    for (int i = 0; i < 68; ++i) {
      crop_points.emplace_back(outputs[0].data[i * 3] / 64.0F * kSize, outputs[0].data[i * 3 + 1] / 64.0F * kSize);
    }
    std::vector<cv::Point2f> frame_points;
    cv::transform(crop_points, frame_points, inverse);
    for (int i = 0; i < 68; ++i) result.points[i] = {frame_points[i].x, frame_points[i].y};
    const auto& heat = outputs[1].data;
    const std::size_t cell = heat.size() / 68;
    double sum = 0;
    for (int i = 0; i < 68; ++i) sum += *std::max_element(heat.begin() + i * cell, heat.begin() + (i + 1) * cell);
    result.score = static_cast<float>(std::clamp(sum / 68.0 / 0.9, 0.0, 1.0));
    return result;
  }

  std::unique_ptr<runtime::Session> session_;
};

}  // namespace

Result<std::unique_ptr<FaceLandmarker68>> CreateFan2dfan4(const ModelInfo& info, const LoadOptions& options) {
  return MakeSessionModel<FaceLandmarker68, Fan2dfan4>(info, options);
}

}  // namespace facefleet::models
