#include "models/swapper_common.hpp"

#include <cmath>

#include "pipeline/face_align.hpp"

namespace facefleet::models::detail {
namespace {

class OnnxSwapper final : public FaceSwapperModel {
 public:
  OnnxSwapper(std::unique_ptr<runtime::Session> session, std::unique_ptr<runtime::Session> converter,
              SwapperRecipe recipe)
      : session_(std::move(session)), converter_(std::move(converter)), recipe_(std::move(recipe)) {}

  const ModelInfo& info() const override { return session_->info(); }

  Result<std::vector<float>> PrepareSource(const Embedding& source) const override {
    return recipe_.prepare_source(source, converter_.get());
  }

  Result<cv::Mat> SwapCrop(const cv::Mat& crop, std::span<const float> source) const override {
    const ModelInfo& m = info();
    const std::vector<float> target = pipeline::ToNchwRgb(crop, m.mean, m.stddev);
    // Inputs in registry order: source (1, 512), target (1, 3, S, S).
    const std::array<runtime::TensorView, 2> inputs = {
        runtime::TensorView{source.data(), ElementType::kFloat32, {1, static_cast<std::int64_t>(source.size())}},
        runtime::TensorView{target.data(), ElementType::kFloat32, {1, 3, m.crop_size, m.crop_size}}};
    auto outputs = session_->Run(inputs);
    if (!outputs.ok()) return outputs.status();
    return pipeline::FromNchwRgb((*outputs)[0].data, m.crop_size, m.mean, m.stddev, recipe_.denormalize_output);
  }

 private:
  std::unique_ptr<runtime::Session> session_;
  std::unique_ptr<runtime::Session> converter_;
  SwapperRecipe recipe_;
};

}  // namespace

std::unique_ptr<FaceSwapperModel> MakeSwapper(std::unique_ptr<runtime::Session> session,
                                              std::unique_ptr<runtime::Session> converter, SwapperRecipe recipe) {
  return std::make_unique<OnnxSwapper>(std::move(session), std::move(converter), std::move(recipe));
}

std::vector<float> L2Normalize(std::vector<float> v) {
  double norm = 0;
  for (const float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (norm < 1e-12) return v;
  for (float& x : v) x = static_cast<float>(x / norm);
  return v;
}

Result<std::vector<float>> ConvertEmbedding(const runtime::Session& converter, const std::vector<float>& raw) {
  const runtime::TensorView view{raw.data(), ElementType::kFloat32, {1, static_cast<std::int64_t>(raw.size())}};
  auto out = converter.Run(std::span(&view, 1));
  if (!out.ok()) return out.status();
  return (*out)[0].data;
}

}  // namespace facefleet::models::detail

namespace facefleet::models {

Result<std::unique_ptr<FaceSwapperModel>> CreateSwapper(const ModelInfo& info, const LoadOptions& options) {
  if (info.kind != ModelKind::kSwapper) {
    return Status(ErrorCode::kUsage, "unknown face swapper model '" + std::string(info.name) + "' (valid: classic, " +
                                         ModelNames(ModelKind::kSwapper) + ")");
  }
  // The swapper's session first: a missing or invalid file gets Session::Load's message (which says how to
  // pull it) before the emap is read from the same file.
  auto session = LoadSession(info, options);
  if (!session.ok()) return session.status();
  detail::SwapperRecipe recipe;
  if (info.name.starts_with("inswapper")) {
    auto inswapper = detail::InswapperRecipe(info, options);
    if (!inswapper.ok()) return inswapper.status();
    recipe = std::move(*inswapper);
  } else if (info.name.starts_with("hyperswap")) {
    recipe = detail::HyperswapRecipe();
  } else if (info.name.starts_with("simswap")) {
    recipe = detail::SimswapRecipe();
  } else {
    recipe = detail::GhostRecipe();
  }
  std::unique_ptr<runtime::Session> converter;
  if (!info.companion.empty()) {
    auto loaded = LoadSession(*FindModel(info.companion), options);
    if (!loaded.ok()) return loaded.status();
    converter = std::move(*loaded);
  }
  return detail::MakeSwapper(std::move(*session), std::move(converter), std::move(recipe));
}

}  // namespace facefleet::models
