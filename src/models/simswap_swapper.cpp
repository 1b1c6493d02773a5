// simswap_256: source = L2(crossface_simswap(e_raw)); crops with ImageNet mean/std; output in [0, 1].
#include "models/swapper_common.hpp"

namespace facefleet::models::detail {

SwapperRecipe SimswapRecipe() {
  return {[](const Embedding& e, const runtime::Session* converter) -> Result<std::vector<float>> {
            auto converted = ConvertEmbedding(*converter, e.raw);
            if (!converted.ok()) return converted.status();
            return L2Normalize(std::move(*converted));
          },
          false};
}

}  // namespace facefleet::models::detail
