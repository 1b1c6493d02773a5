// The mechanics every ONNX face swapper shares: RGB crop normalisation, running (source, target), and
// de-normalising the output. Models differ only in how the source identity becomes the `source` input and
// whether the output needs de-normalisation; each model file supplies a SwapperRecipe.
#pragma once

#include <functional>
#include <memory>

#include "models/onnx_models.hpp"

namespace facefleet::models::detail {

struct SwapperRecipe {
  // The `source` input (1 x 512) from the averaged identity; `converter` is the companion session or null.
  std::function<Result<std::vector<float>>(const Embedding&, const runtime::Session* converter)> prepare_source;
  bool denormalize_output = false;  // output * std + mean (ghost, hyperswap); others output [0, 1]
};

std::unique_ptr<FaceSwapperModel> MakeSwapper(std::unique_ptr<runtime::Session> session,
                                              std::unique_ptr<runtime::Session> converter, SwapperRecipe recipe);

// L2 normalisation of a vector (unchanged when its norm is ~0).
std::vector<float> L2Normalize(std::vector<float> v);

// Runs an embedding converter (crossface_*): (1, 512) raw embedding -> (1, 512).
Result<std::vector<float>> ConvertEmbedding(const runtime::Session& converter, const std::vector<float>& raw);

Result<SwapperRecipe> InswapperRecipe(const ModelInfo& info, const LoadOptions& options);
SwapperRecipe HyperswapRecipe();
SwapperRecipe SimswapRecipe();
SwapperRecipe GhostRecipe();

}  // namespace facefleet::models::detail
