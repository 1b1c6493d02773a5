// ghost_1/2/3_256: source = crossface_ghost(e_raw), NOT normalised; crops with mean = std = 0.5 and the
// output de-normalised the same way.
#include "models/swapper_common.hpp"

namespace facefleet::models::detail {

SwapperRecipe GhostRecipe() {
  return {[](const Embedding& e, const runtime::Session* converter) { return ConvertEmbedding(*converter, e.raw); },
          true};
}

}  // namespace facefleet::models::detail
