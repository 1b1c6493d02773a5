// Generates ONNX models with exactly the tensor contracts of the registry (src/models/registry.hpp), so
// tests can prove facefleet's pre/post-processing without the real (non-downloadable) weights, and
// benchmarks can time graphs of the real models' size.
//
// Every model is written with libonnx as IR version 8, opset 17; input names, element types and shapes come
// from ModelInfo::inputs (dynamic dims (-1) are written as symbolic dims); output names are the spec's name,
// or "output", "output_1", ... when the spec leaves the name empty. Unused inputs are still consumed by
// the graph (ORT would otherwise drop them). Thread-safe (no shared state).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "facefleet/status.hpp"
#include "models/registry.hpp"

namespace facefleet::modelgen {

// A swapper (any ModelKind::kSwapper contract) whose output equals its `target` input. `emap`, when not
// empty (512*512 values, row-major), is stored as the graph's LAST initializer, as in inswapper_128.
Status WriteIdentitySwapper(const models::ModelInfo& info, const std::vector<float>& emap, const std::string& path);

// A swapper whose every output pixel is `value` (per channel, in the model's output space, i.e. before
// FaceFusion's de-normalisation), whatever the inputs.
Status WriteConstantSwapper(const models::ModelInfo& info, std::array<float, 3> value, const std::string& path);

// A model whose outputs are the given constant tensors (shapes must match the contract where it is fixed;
// they fill in dynamic dims), whatever the inputs. For detectors, landmarkers, occluders and parsers that
// must emit known raw tensors.
struct ConstantOutput {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};
Status WriteConstantOutputs(const models::ModelInfo& info, const std::vector<ConstantOutput>& outputs,
                            const std::string& path);

// Recognizer (arcface contract (1,3,112,112) -> (1,512)): AveragePool 28x28/28 -> flatten (48 values) ->
// MatMul with a fixed pseudo-random 48x512 matrix from `seed`. A fixed linear map of the crop.
Status WriteLinearRecognizer(const models::ModelInfo& info, std::uint32_t seed, const std::string& path);

// The pseudo-random matrix of WriteLinearRecognizer: `count` values uniform in [-1, 1) from std::mt19937(seed)
// (row-major K x 512), so tests can compute the expected embedding by hand.
std::vector<float> UniformWeights(std::uint32_t seed, std::size_t count);

// Single-input model computing reshape(input) . weights + bias, where the input is flattened to
// (1, K) and the output is reshaped to the contract's first output shape (K x M weights, row-major; M =
// product of the output dims). For fan_68_5 (5x2 -> 68x2) and crossface converters (512 -> 512).
Status WriteLinearModel(const models::ModelInfo& info, const std::vector<float>& weights,
                        const std::vector<float>& bias, const std::string& path);

// An enhancer whose output equals its `input` (codeformer's `weight` input is consumed but has no effect).
Status WriteIdentityEnhancer(const models::ModelInfo& info, const std::string& path);

// A random-weight graph with the model's exact contract and about `parameters` float parameters (within a
// few percent), built from convolutions so that inference does real work. For speed measurements only.
Status WriteRandomWeightModel(const models::ModelInfo& info, std::int64_t parameters, std::uint32_t seed,
                              const std::string& path);

// Sum of the element counts of all initializers of the model at `path`.
Result<std::int64_t> CountParameters(const std::string& path);

}  // namespace facefleet::modelgen
