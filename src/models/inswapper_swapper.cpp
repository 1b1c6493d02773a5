// inswapper_128 (+ _fp16): the source input is FaceFusion's latent = (e_raw . EMAP) / |e_raw|, where EMAP is
// the 512x512 matrix stored as the model file's last initializer. (InsightFace's own wrapper instead uses
// e_norm . EMAP and re-normalises the latent; the two differ by one scalar per source face. We follow
// FaceFusion so results match the tool users compare against.) Output: RGB in [0, 1], no de-normalisation.
#include <filesystem>

#include "models/onnx_initializer.hpp"
#include "models/swapper_common.hpp"

namespace facefleet::models::detail {

Result<SwapperRecipe> InswapperRecipe(const ModelInfo& info, const LoadOptions& options) {
  const std::string path = (std::filesystem::path(options.models_dir) / std::string(info.file)).string();
  auto emap = ReadLastInitializer(path, 512 * 512);
  if (!emap.ok()) return emap.status();
  SwapperRecipe recipe;
  recipe.prepare_source = [emap = std::move(*emap)](const Embedding& e, const runtime::Session*) {
    double norm = 0;
    for (const float v : e.raw) norm += static_cast<double>(v) * v;
    norm = std::sqrt(std::max(norm, 1e-12));
    std::vector<float> latent(512, 0.0F);
    for (std::size_t i = 0; i < 512; ++i) {  // latent[j] = sum_i raw[i] * emap[i][j]
      const float v = e.raw[i];
      const float* row = &emap[i * 512];
      for (std::size_t j = 0; j < 512; ++j) latent[j] += v * row[j];
    }
    for (float& v : latent) v = static_cast<float>(v / norm);
    return Result<std::vector<float>>(std::move(latent));
  };
  return recipe;
}

}  // namespace facefleet::models::detail
