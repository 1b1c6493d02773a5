// Internal to facefleet_model_gen: a thin helper over onnx::ModelProto that declares a graph's inputs and
// outputs exactly as a registry contract says, and adds nodes and initializers with fresh names.
// Not thread-safe per object (each writer builds its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <onnx/onnx_pb.h>

#include "facefleet/status.hpp"
#include "models/registry.hpp"

namespace facefleet::modelgen {

inline constexpr std::int64_t kIrVersion = 8;
inline constexpr std::int64_t kOpsetVersion = 17;

// One node attribute: an int, a float or a list of ints (all the generated graphs need).
struct Attr {
  std::string name;
  std::variant<std::int64_t, float, std::vector<std::int64_t>> value;
};
inline Attr IntAttr(std::string name, std::int64_t value) { return {std::move(name), value}; }
inline Attr FloatAttr(std::string name, float value) { return {std::move(name), value}; }
inline Attr IntsAttr(std::string name, std::vector<std::int64_t> value) { return {std::move(name), std::move(value)}; }

onnx::TensorProto_DataType ToOnnxType(models::ElementType type);

// The contract's name for input/output `index`, or "input"/"output" (index 0) and "input_<i>"/"output_<i>".
std::string InputName(const models::ModelInfo& info, std::size_t index);
std::string OutputName(const models::ModelInfo& info, std::size_t index);

// Product of the positive dims (dynamic -1 dims are skipped); 1 for an empty shape.
std::int64_t FixedProduct(std::span<const std::int64_t> dims);

// True for a rank-4 shape laid out NHWC (xseg): a small last dim (1-4 channels) after a dim that is not.
bool IsChannelsLast(std::span<const std::int64_t> shape);

// Whether `actual` fits `contract`: same rank, and every positive contract dim equal. An empty contract
// shape leaves the rank open and accepts anything.
bool ShapeFits(std::span<const std::int64_t> contract, std::span<const std::int64_t> actual);

// Uniform [-bound, bound) float32 values from `rng`, in order.
void FillUniform(std::mt19937& rng, float bound, std::span<float> out);

class GraphBuilder {
 public:
  // Starts an IR 8 / opset 17 model whose graph inputs are typed exactly per `info` (which must outlive
  // the builder); dynamic dims become symbolic dims.
  explicit GraphBuilder(const models::ModelInfo& info);

  const models::ModelInfo& info() const { return info_; }
  onnx::ModelProto& model() { return model_; }

  // The name of graph input `index` as a float32 value (a Cast is added for other element types).
  std::string InputAsFloat(std::size_t index);

  // Adds a one-output node; returns the output's name (`output`, or a fresh one when empty).
  std::string Op(std::string_view op_type, const std::vector<std::string>& inputs, const std::vector<Attr>& attrs = {},
                 std::string output = {});

  // A float32 initializer stored as raw_data. Returns its name.
  std::string FloatTensor(std::string_view prefix, const std::vector<std::int64_t>& dims, std::span<const float> data);
  // A 1-D int64 initializer (shapes, axes). Returns its name.
  std::string Int64Tensor(const std::vector<std::int64_t>& values);
  // A float32 initializer with `dims` whose data the caller sets (or leaves empty in a dry run).
  onnx::TensorProto& EmptyFloatTensor(std::string_view prefix, const std::vector<std::int64_t>& dims);

  // A float32 scalar 0 computed from graph input `index` (ReduceMax(x) * 0): it ties a value to the input
  // without changing it, and its value is unknown to shape inference and constant folding.
  std::string ZeroFrom(std::size_t input_index);

  // Connects `values` (float32, one per contract output, in order) to the graph outputs. Every graph input
  // that no node reads is added to output 0 as ZeroFrom(input), so ONNX Runtime keeps it; each value is then
  // cast to its contract element type and given its contract name. An output whose contract leaves the shape
  // open is declared with open_ranks[i] symbolic dims (the ONNX checker requires a shape on graph outputs).
  // Call once, last (after it, only initializers may be appended).
  void Finish(std::vector<std::string> values, const std::vector<std::size_t>& open_ranks = {});

 private:
  std::string Fresh(std::string_view prefix);

  const models::ModelInfo& info_;
  onnx::ModelProto model_;
  std::int64_t next_id_ = 0;
};

// Sum of the element counts of the graph's initializers (from their dims, so dry runs count too).
std::int64_t InitializerElements(const onnx::GraphProto& graph);

// Runs the ONNX checker, then writes the model. kUsage when it exceeds protobuf's 2 GiB limit, kInternal
// when the checker rejects it (a generator bug), kOutputFailed when `path` cannot be written.
Status WriteModel(const onnx::ModelProto& model, const std::string& path);

}  // namespace facefleet::modelgen
