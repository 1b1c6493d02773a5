// Known-function models: identity, constant and linear graphs with the registry's exact contracts.
#include "model_gen.hpp"

#include <algorithm>
#include <climits>
#include <exception>
#include <fstream>
#include <optional>
#include <random>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "graph_builder.hpp"

namespace facefleet::modelgen {
namespace {

using models::ModelInfo;
using models::ModelKind;

constexpr std::int64_t kEmbeddingSize = 512;
constexpr std::int64_t kRecognizerPool = 28;  // AveragePool kernel and stride of WriteLinearRecognizer

std::string Where(const ModelInfo& info) { return std::string(info.name) + ": "; }

Status RequireKind(const ModelInfo& info, ModelKind kind) {
  if (info.kind == kind) return Status::Ok();
  return {ErrorCode::kUsage, Where(info) + "is a " + std::string(models::KindName(info.kind)) + ", not a " +
                                 std::string(models::KindName(kind))};
}

std::optional<std::size_t> FindInput(const ModelInfo& info, std::string_view name) {
  for (std::size_t i = 0; i < info.inputs.size(); ++i) {
    if (info.inputs[i].name == name) return i;
  }
  return std::nullopt;
}

// Whether two contract shapes can describe the same tensor: same rank, equal where both are fixed.
bool ShapesAgree(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

// The contract has exactly one output, the same shape as input `input_index` (identity models).
Status RequireOutputLikeInput(const ModelInfo& info, std::size_t input_index) {
  if (info.outputs.size() != 1) return {ErrorCode::kUsage, Where(info) + "identity models need exactly one output"};
  if (!ShapesAgree(info.outputs[0].shape, info.inputs[input_index].shape)) {
    return {ErrorCode::kUsage, Where(info) + "output shape differs from input '" + InputName(info, input_index) + "'"};
  }
  return Status::Ok();
}

std::string DescribeShape(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + ")";
}

// The shape for a Reshape to the contract shape: fixed dims as is, at most one dynamic dim as -1.
Result<std::vector<std::int64_t>> ReshapeTarget(const ModelInfo& info, const std::vector<std::int64_t>& shape) {
  if (std::count_if(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; }) > 1) {
    return Status(ErrorCode::kUsage, Where(info) + "output " + DescribeShape(shape) + " has several dynamic dims");
  }
  if (shape.empty()) return Status(ErrorCode::kUsage, Where(info) + "the contract leaves the output shape open");
  return shape;
}

}  // namespace

std::vector<float> UniformWeights(std::uint32_t seed, std::size_t count) {
  std::mt19937 rng(seed);
  std::vector<float> values(count);
  FillUniform(rng, 1.0F, values);
  return values;
}

Status WriteIdentitySwapper(const ModelInfo& info, const std::vector<float>& emap, const std::string& path) {
  if (Status s = RequireKind(info, ModelKind::kSwapper); !s.ok()) return s;
  const std::optional<std::size_t> target = FindInput(info, "target");
  if (!target) return {ErrorCode::kUsage, Where(info) + "the contract has no 'target' input"};
  if (Status s = RequireOutputLikeInput(info, *target); !s.ok()) return s;
  if (!emap.empty() && emap.size() != static_cast<std::size_t>(kEmbeddingSize * kEmbeddingSize)) {
    return {ErrorCode::kUsage, Where(info) + "emap must hold 512*512 values, got " + std::to_string(emap.size())};
  }
  GraphBuilder graph(info);
  graph.Finish({graph.InputAsFloat(*target)});
  // After Finish, so that nothing follows it: FaceFusion reads the emap as graph.initializer[-1].
  if (!emap.empty()) graph.FloatTensor("emap", {kEmbeddingSize, kEmbeddingSize}, emap);
  return WriteModel(graph.model(), path);
}

Status WriteConstantSwapper(const ModelInfo& info, std::array<float, 3> value, const std::string& path) {
  if (Status s = RequireKind(info, ModelKind::kSwapper); !s.ok()) return s;
  if (info.outputs.size() != 1) return {ErrorCode::kUsage, Where(info) + "swappers need exactly one output"};
  const std::vector<std::int64_t>& shape = info.outputs[0].shape;
  const bool fixed = std::all_of(shape.begin(), shape.end(), [](std::int64_t d) { return d > 0; });
  const bool channels_last = IsChannelsLast(shape);
  if (shape.size() != 4 || !fixed || shape[channels_last ? 3 : 1] != 3) {
    return {ErrorCode::kUsage, Where(info) + "output " + DescribeShape(shape) + " is not a fixed 3-channel image"};
  }
  GraphBuilder graph(info);
  const std::vector<std::int64_t> pixel =
      channels_last ? std::vector<std::int64_t>{1, 1, 1, 3} : std::vector<std::int64_t>{1, 3, 1, 1};
  const std::string colour = graph.FloatTensor("colour", pixel, value);
  graph.Finish({graph.Op("Expand", {colour, graph.Int64Tensor(shape)})});
  return WriteModel(graph.model(), path);
}

Status WriteConstantOutputs(const ModelInfo& info, const std::vector<ConstantOutput>& outputs,
                            const std::string& path) {
  if (outputs.size() != info.outputs.size()) {
    return {ErrorCode::kUsage, Where(info) + "the contract has " + std::to_string(info.outputs.size()) +
                                   " outputs, got " + std::to_string(outputs.size())};
  }
  if (info.inputs.empty()) return {ErrorCode::kUsage, Where(info) + "the contract has no input"};
  GraphBuilder graph(info);
  std::vector<std::string> values;
  std::vector<std::size_t> ranks;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const ConstantOutput& output = outputs[i];
    const bool valid = std::all_of(output.shape.begin(), output.shape.end(), [](std::int64_t d) { return d >= 0; });
    if (!valid || !ShapeFits(info.outputs[i].shape, output.shape)) {
      return {ErrorCode::kUsage, Where(info) + "output " + std::to_string(i) + " shape " + DescribeShape(output.shape) +
                                     " does not fit the contract " + DescribeShape(info.outputs[i].shape)};
    }
    if (static_cast<std::int64_t>(output.data.size()) != FixedProduct(output.shape)) {
      return {ErrorCode::kUsage, Where(info) + "output " + std::to_string(i) + " has " +
                                     std::to_string(output.data.size()) + " values for shape " +
                                     DescribeShape(output.shape)};
    }
    std::string value = graph.FloatTensor("constant", output.shape, output.data);
    const std::vector<std::int64_t>& contract = info.outputs[i].shape;
    if (contract.empty() || std::any_of(contract.begin(), contract.end(), [](std::int64_t d) { return d < 0; })) {
      // Reshape to its own shape, computed from the input: a no-op whose result shape inference cannot know,
      // so ONNX Runtime reports the contract's dynamic dims rather than this constant's sizes.
      const std::string zero = graph.Op("Cast", {graph.ZeroFrom(0)}, {IntAttr("to", onnx::TensorProto_DataType_INT64)});
      value = graph.Op("Reshape", {value, graph.Op("Add", {graph.Int64Tensor(output.shape), zero})});
    }
    values.push_back(std::move(value));
    ranks.push_back(output.shape.size());
  }
  graph.Finish(std::move(values), ranks);
  return WriteModel(graph.model(), path);
}

Status WriteLinearRecognizer(const ModelInfo& info, std::uint32_t seed, const std::string& path) {
  if (info.inputs.size() != 1 || info.outputs.size() != 1) {
    return {ErrorCode::kUsage, Where(info) + "a linear recognizer needs one input and one output"};
  }
  const std::vector<std::int64_t>& in = info.inputs[0].shape;
  if (in.size() != 4 || in[1] <= 0 || in[2] <= 0 || in[3] <= 0 || in[2] % kRecognizerPool != 0 ||
      in[3] % kRecognizerPool != 0) {
    return {ErrorCode::kUsage, Where(info) + "input " + DescribeShape(in) + " is not NCHW with sides divisible by 28"};
  }
  Result<std::vector<std::int64_t>> out_shape = ReshapeTarget(info, info.outputs[0].shape);
  if (!out_shape.ok()) return out_shape.status();
  const std::int64_t k = in[1] * (in[2] / kRecognizerPool) * (in[3] / kRecognizerPool);
  const std::int64_t m = FixedProduct(*out_shape);
  GraphBuilder graph(info);
  const std::vector<float> weights = UniformWeights(seed, static_cast<std::size_t>(k * m));
  const std::string pooled = graph.Op("AveragePool", {graph.InputAsFloat(0)},
                                      {IntsAttr("kernel_shape", {kRecognizerPool, kRecognizerPool}),
                                       IntsAttr("strides", {kRecognizerPool, kRecognizerPool})});
  const std::string flat = graph.Op("Flatten", {pooled}, {IntAttr("axis", 1)});
  const std::string product = graph.Op("MatMul", {flat, graph.FloatTensor("weights", {k, m}, weights)});
  graph.Finish({graph.Op("Reshape", {product, graph.Int64Tensor(*out_shape)})});
  return WriteModel(graph.model(), path);
}

Status WriteLinearModel(const ModelInfo& info, const std::vector<float>& weights, const std::vector<float>& bias,
                        const std::string& path) {
  if (info.inputs.size() != 1 || info.outputs.empty()) {
    return {ErrorCode::kUsage, Where(info) + "a linear model needs exactly one input and an output"};
  }
  Result<std::vector<std::int64_t>> out_shape = ReshapeTarget(info, info.outputs[0].shape);
  if (!out_shape.ok()) return out_shape.status();
  const std::int64_t k = FixedProduct(info.inputs[0].shape);
  const std::int64_t m = FixedProduct(*out_shape);
  if (static_cast<std::int64_t>(weights.size()) != k * m || static_cast<std::int64_t>(bias.size()) != m) {
    return {ErrorCode::kUsage, Where(info) + "expected " + std::to_string(k) + "x" + std::to_string(m) +
                                   " weights and " + std::to_string(m) + " biases, got " +
                                   std::to_string(weights.size()) + " and " + std::to_string(bias.size())};
  }
  if (info.outputs.size() != 1) return {ErrorCode::kUsage, Where(info) + "a linear model has exactly one output"};
  GraphBuilder graph(info);
  // (-1, K) rather than (1, K): the same graph then also maps a batch of embeddings row by row.
  const std::string rows = graph.Op("Reshape", {graph.InputAsFloat(0), graph.Int64Tensor({-1, k})});
  const std::string product = graph.Op("MatMul", {rows, graph.FloatTensor("weights", {k, m}, weights)});
  const std::string affine = graph.Op("Add", {product, graph.FloatTensor("bias", {m}, bias)});
  graph.Finish({graph.Op("Reshape", {affine, graph.Int64Tensor(*out_shape)})});
  return WriteModel(graph.model(), path);
}

Status WriteIdentityEnhancer(const ModelInfo& info, const std::string& path) {
  if (Status s = RequireKind(info, ModelKind::kEnhancer); !s.ok()) return s;
  if (info.inputs.empty()) return {ErrorCode::kUsage, Where(info) + "the contract has no input"};
  const std::size_t image = FindInput(info, "input").value_or(0);
  if (Status s = RequireOutputLikeInput(info, image); !s.ok()) return s;
  GraphBuilder graph(info);
  graph.Finish({graph.InputAsFloat(image)});
  return WriteModel(graph.model(), path);
}

Result<std::int64_t> CountParameters(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kModelUnavailable, path + ": cannot open");
  onnx::ModelProto model;
  try {
    google::protobuf::io::IstreamInputStream raw(&in);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT_MAX);  // real models exceed protobuf's historical 64 MiB default
    if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
      return Status(ErrorCode::kModelUnavailable, path + ": not a valid ONNX model");
    }
    if (!model.has_graph()) return Status(ErrorCode::kModelUnavailable, path + ": not an ONNX model (no graph)");
  } catch (const std::exception& e) {
    return Status(ErrorCode::kInternal, path + ": reading the model failed: " + e.what());
  }
  return InitializerElements(model.graph());
}

}  // namespace facefleet::modelgen
