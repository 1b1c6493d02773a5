// The neural swap of one target face, with FaceFusion's mechanics: crop at the pixel-boost size with the
// model's template, box/occlusion masks on that crop, the model on each boost tile, area/region masks on
// the swapped crop, paste back; then optionally the enhancer on an ffhq_512 crop, blended by
// --face-enhancer-blend.
//
// Stateless and thread-safe (models are shared, read-only).
#pragma once

#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facefleet/engine.hpp"
#include "facefleet/options.hpp"
#include "models/onnx_models.hpp"

namespace facefleet::pipeline {

struct NeuralModels {
  const models::FaceSwapperModel* swapper = nullptr;  // required
  const models::FaceEnhancerModel* enhancer = nullptr;
  const models::FaceOccluderModel* occluder = nullptr;  // required when masks include "occlusion"
  const models::FaceParserModel* parser = nullptr;      // required when masks include "region"
};

// The averaged identity of several source faces: raw and normalised embeddings averaged separately.
models::Embedding AverageEmbeddings(std::span<const models::Embedding> embeddings);

// FaceFusion's --face-swapper-weight: w' = 0.35 - 0.7 * weight; source = source * (1 - w') + target * w'
// (target: the target face's embedding, L2-normalised unless the model is a ghost model). Unchanged at 0.5.
std::vector<float> BalanceSource(std::vector<float> source, const models::Embedding& target, float weight,
                                 std::string_view model_name);

// FaceFusion region names -> bisenet class ids; kUsage for unknown names.
Result<std::vector<int>> RegionClasses(std::span<const std::string> regions);

// Swaps `target` in `frame` (8-bit BGR, in place). `source` is the model's prepared source input.
Status SwapNeuralFace(const NeuralModels& models, std::span<const float> source, const Face& target,
                      const SwapOptions& options, cv::Mat& frame, StageTimings* timings);

// Enhances `face` in `frame` in place (no-op without an enhancer).
Status EnhanceFace(const NeuralModels& models, const Face& face, const SwapOptions& options, cv::Mat& frame,
                   StageTimings* timings);

}  // namespace facefleet::pipeline
