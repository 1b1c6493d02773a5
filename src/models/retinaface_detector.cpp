// retinaface_10g (InsightFace): same input normalisation and output layout as scrfd.
#include "models/detector_common.hpp"

namespace facefleet::models::detail {

DetectorRecipe RetinafaceRecipe() { return {127.5F, 128.0F, DecodeAnchorOutputs}; }

}  // namespace facefleet::models::detail
