// scrfd_2.5g (InsightFace): BGR input normalised (x - 127.5) / 128; anchor decoding shared with retinaface.
#include "models/detector_common.hpp"

namespace facefleet::models::detail {

DetectorRecipe ScrfdRecipe() { return {127.5F, 128.0F, DecodeAnchorOutputs}; }

}  // namespace facefleet::models::detail
