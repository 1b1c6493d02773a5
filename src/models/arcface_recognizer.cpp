// arcface_w600k_r50: the face aligned to arcface_112_v2 at 112 px, RGB, x / 127.5 - 1; output (1, 512).
#include <cmath>

#include "models/onnx_models.hpp"
#include "pipeline/face_align.hpp"

namespace facefleet::models {
namespace {

class Arcface final : public FaceRecognizer {
 public:
  explicit Arcface(std::unique_ptr<runtime::Session> session) : session_(std::move(session)) {}

  Result<Embedding> Embed(const cv::Mat& bgr, const std::array<Point2, 5>& landmark5) const override {
    const ModelInfo& info = session_->info();
    const cv::Mat affine =
        pipeline::EstimateAlignment(landmark5, *FindWarpTemplate(info.warp_template), info.crop_size);
    const cv::Mat crop = pipeline::WarpFace(bgr, affine, info.crop_size);
    const std::vector<float> input = pipeline::ToNchwRgb(crop, info.mean, info.stddev);
    const runtime::TensorView view{input.data(), ElementType::kFloat32, {1, 3, info.crop_size, info.crop_size}};
    auto result = session_->Run(std::span(&view, 1));
    if (!result.ok()) return result.status();
    Embedding e;
    e.raw = (*result)[0].data;
    double norm = 0;
    for (const float v : e.raw) norm += static_cast<double>(v) * v;
    norm = std::sqrt(std::max(norm, 1e-12));
    for (const float v : e.raw) e.normalized.push_back(static_cast<float>(v / norm));
    return e;
  }

 private:
  std::unique_ptr<runtime::Session> session_;
};

}  // namespace

Result<std::unique_ptr<FaceRecognizer>> CreateArcface(const ModelInfo& info, const LoadOptions& options) {
  return MakeSessionModel<FaceRecognizer, Arcface>(info, options);
}

}  // namespace facefleet::models
