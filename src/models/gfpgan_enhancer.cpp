// Face enhancers on ffhq_512 crops at 512 px: RGB, (x/255 - 0.5) / 0.5 in, clip(-1, 1) -> (x + 1) / 2 out.
// gfpgan_1.4 takes only the crop; codeformer also a float64 `weight` (fidelity), which FaceFusion feeds as
// the --face-enhancer-weight value. Both share this implementation (see codeformer_enhancer.cpp).
#include "models/onnx_models.hpp"
#include "pipeline/face_align.hpp"

namespace facefleet::models {
namespace {

class OnnxEnhancer final : public FaceEnhancerModel {
 public:
  explicit OnnxEnhancer(std::unique_ptr<runtime::Session> session) : session_(std::move(session)) {}
  const ModelInfo& info() const override { return session_->info(); }

  Result<cv::Mat> Enhance(const cv::Mat& crop, double weight) const override {
    const ModelInfo& m = info();
    const std::vector<float> input = pipeline::ToNchwRgb(crop, m.mean, m.stddev);
    std::vector<runtime::TensorView> inputs = {{input.data(), ElementType::kFloat32, {1, 3, m.crop_size, m.crop_size}}};
    if (m.inputs.size() > 1) inputs.push_back({&weight, ElementType::kFloat64, {1}});
    auto outputs = session_->Run(inputs);
    if (!outputs.ok()) return outputs.status();
    // (clip(x, -1, 1) + 1) / 2 is x * 0.5 + 0.5 clipped to [0, 1]: FromNchwRgb's de-normalisation.
    return pipeline::FromNchwRgb((*outputs)[0].data, m.crop_size, m.mean, m.stddev, true);
  }

 private:
  std::unique_ptr<runtime::Session> session_;
};

}  // namespace

Result<std::unique_ptr<FaceEnhancerModel>> CreateEnhancer(const ModelInfo& info, const LoadOptions& options) {
  if (info.kind != ModelKind::kEnhancer) {
    return Status(ErrorCode::kUsage, "unknown face enhancer model '" + std::string(info.name) +
                                         "' (valid: " + ModelNames(ModelKind::kEnhancer) + ")");
  }
  return MakeSessionModel<FaceEnhancerModel, OnnxEnhancer>(info, options);
}

}  // namespace facefleet::models
