// hyperswap_1a/1b/1c_256 (FaceFusion): source = L2-normalised ArcFace embedding; crops normalised with
// mean = std = 0.5 and the output de-normalised the same way. Only output 0 is used (the second output, a
// mask, is ignored as FaceFusion does).
#include "models/swapper_common.hpp"

namespace facefleet::models::detail {

SwapperRecipe HyperswapRecipe() {
  return {[](const Embedding& e, const runtime::Session*) { return Result<std::vector<float>>(e.normalized); }, true};
}

}  // namespace facefleet::models::detail
