#include "graph_builder.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <exception>
#include <fstream>
#include <set>

#include <onnx/checker.h>

namespace facefleet::modelgen {
namespace {

// Symbolic dim names by axis: NCHW for rank 4, N x D for rank 2, d<i> otherwise.
std::string AxisName(std::size_t rank, std::size_t axis) {
  static constexpr std::array<std::string_view, 4> kNchw = {"N", "C", "H", "W"};
  if (rank == 4) return std::string(kNchw[axis]);
  if (rank == 2) return axis == 0 ? "N" : "D";
  return "d" + std::to_string(axis);
}

// Types `value` per `spec`. Dynamic dims get dim_param `prefix` + axis name; an empty contract shape
// leaves the shape out entirely (rank unknown), as the contract does.
void DeclareValue(onnx::ValueInfoProto& value, const std::string& name, const models::TensorSpec& spec,
                  const std::string& prefix, std::size_t open_rank = 0) {
  value.set_name(name);
  onnx::TypeProto_Tensor* tensor = value.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(ToOnnxType(spec.type));
  // An open contract shape: `open_rank` dims, all symbolic.
  const std::vector<std::int64_t> dims = spec.shape.empty() ? std::vector<std::int64_t>(open_rank, -1) : spec.shape;
  onnx::TensorShapeProto* shape = tensor->mutable_shape();
  for (std::size_t axis = 0; axis < dims.size(); ++axis) {
    onnx::TensorShapeProto_Dimension* dim = shape->add_dim();
    if (dims[axis] >= 0) {
      dim->set_dim_value(dims[axis]);
    } else {
      dim->set_dim_param(prefix + AxisName(dims.size(), axis));
    }
  }
}

std::string IndexedName(std::string_view spec_name, std::string_view base, std::size_t index) {
  if (!spec_name.empty()) return std::string(spec_name);
  return index == 0 ? std::string(base) : std::string(base) + "_" + std::to_string(index);
}

}  // namespace

onnx::TensorProto_DataType ToOnnxType(models::ElementType type) {
  switch (type) {
    case models::ElementType::kFloat32:
      return onnx::TensorProto_DataType_FLOAT;
    case models::ElementType::kFloat16:
      return onnx::TensorProto_DataType_FLOAT16;
    case models::ElementType::kFloat64:
      return onnx::TensorProto_DataType_DOUBLE;
    case models::ElementType::kInt64:
      return onnx::TensorProto_DataType_INT64;
  }
  return onnx::TensorProto_DataType_UNDEFINED;
}

std::string InputName(const models::ModelInfo& info, std::size_t index) {
  return IndexedName(info.inputs[index].name, "input", index);
}

std::string OutputName(const models::ModelInfo& info, std::size_t index) {
  return IndexedName(info.outputs[index].name, "output", index);
}

std::int64_t FixedProduct(std::span<const std::int64_t> dims) {
  std::int64_t product = 1;
  for (const std::int64_t dim : dims) {
    if (dim >= 0) product *= dim;
  }
  return product;
}

bool IsChannelsLast(std::span<const std::int64_t> shape) {
  const auto small = [](std::int64_t dim) { return dim >= 1 && dim <= 4; };
  return shape.size() == 4 && small(shape[3]) && !small(shape[1]);
}

bool ShapeFits(std::span<const std::int64_t> contract, std::span<const std::int64_t> actual) {
  if (contract.empty()) return true;
  if (contract.size() != actual.size()) return false;
  for (std::size_t i = 0; i < contract.size(); ++i) {
    if (contract[i] >= 0 && contract[i] != actual[i]) return false;
  }
  return true;
}

void FillUniform(std::mt19937& rng, float bound, std::span<float> out) {
  std::uniform_real_distribution<float> uniform(-bound, bound);
  for (float& value : out) value = uniform(rng);
}

GraphBuilder::GraphBuilder(const models::ModelInfo& info) : info_(info) {
  model_.set_ir_version(kIrVersion);
  model_.set_producer_name("facefleet-model-gen");
  onnx::OperatorSetIdProto* opset = model_.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpsetVersion);
  onnx::GraphProto* graph = model_.mutable_graph();
  graph->set_name(std::string(info.name));
  // The first input with dynamic dims gets plain names ("N", "H"); later ones are prefixed so unrelated
  // dims never share a symbol.
  bool plain_used = false;
  for (std::size_t i = 0; i < info.inputs.size(); ++i) {
    const models::TensorSpec& spec = info.inputs[i];
    const bool dynamic = std::any_of(spec.shape.begin(), spec.shape.end(), [](std::int64_t d) { return d < 0; });
    const std::string name = InputName(info, i);
    DeclareValue(*graph->add_input(), name, spec, dynamic && plain_used ? name + "_" : "");
    plain_used = plain_used || dynamic;
  }
}

std::string GraphBuilder::Fresh(std::string_view prefix) {
  return std::string(prefix) + "_" + std::to_string(next_id_++);
}

std::string GraphBuilder::InputAsFloat(std::size_t index) {
  std::string name = InputName(info_, index);
  if (info_.inputs[index].type == models::ElementType::kFloat32) return name;
  return Op("Cast", {name}, {IntAttr("to", onnx::TensorProto_DataType_FLOAT)});
}

std::string GraphBuilder::Op(std::string_view op_type, const std::vector<std::string>& inputs,
                             const std::vector<Attr>& attrs, std::string output) {
  if (output.empty()) output = Fresh(op_type);
  onnx::NodeProto* node = model_.mutable_graph()->add_node();
  node->set_op_type(std::string(op_type));
  node->set_name(output + "_node");
  for (const std::string& input : inputs) node->add_input(input);
  node->add_output(output);
  for (const Attr& attr : attrs) {
    onnx::AttributeProto* proto = node->add_attribute();
    proto->set_name(attr.name);
    if (const auto* i = std::get_if<std::int64_t>(&attr.value)) {
      proto->set_type(onnx::AttributeProto_AttributeType_INT);
      proto->set_i(*i);
    } else if (const auto* f = std::get_if<float>(&attr.value)) {
      proto->set_type(onnx::AttributeProto_AttributeType_FLOAT);
      proto->set_f(*f);
    } else {
      proto->set_type(onnx::AttributeProto_AttributeType_INTS);
      for (const std::int64_t v : std::get<std::vector<std::int64_t>>(attr.value)) proto->add_ints(v);
    }
  }
  return output;
}

onnx::TensorProto& GraphBuilder::EmptyFloatTensor(std::string_view prefix, const std::vector<std::int64_t>& dims) {
  onnx::TensorProto* tensor = model_.mutable_graph()->add_initializer();
  tensor->set_name(Fresh(prefix));
  tensor->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (const std::int64_t dim : dims) tensor->add_dims(dim);
  return *tensor;
}

std::string GraphBuilder::FloatTensor(std::string_view prefix, const std::vector<std::int64_t>& dims,
                                      std::span<const float> data) {
  onnx::TensorProto& tensor = EmptyFloatTensor(prefix, dims);
  // raw_data is little-endian IEEE 754, the in-memory layout on every platform facefleet builds for.
  std::string* raw = tensor.mutable_raw_data();
  raw->resize(data.size_bytes());
  if (!data.empty()) std::memcpy(raw->data(), data.data(), data.size_bytes());
  return tensor.name();
}

std::string GraphBuilder::Int64Tensor(const std::vector<std::int64_t>& values) {
  onnx::TensorProto* tensor = model_.mutable_graph()->add_initializer();
  tensor->set_name(Fresh("const"));
  tensor->set_data_type(onnx::TensorProto_DataType_INT64);
  tensor->add_dims(static_cast<std::int64_t>(values.size()));
  for (const std::int64_t v : values) tensor->add_int64_data(v);
  return tensor->name();
}

std::string GraphBuilder::ZeroFrom(std::size_t input_index) {
  // ReduceMax (not ReduceSum) so that large finite inputs cannot overflow to inf, whose product with 0 is NaN.
  const std::string as_float = InputAsFloat(input_index);
  const std::string max = Op("ReduceMax", {as_float}, {IntAttr("keepdims", 0)});
  const std::array<float, 1> zero = {0.0F};
  return Op("Mul", {max, FloatTensor("zero", {}, zero)});
}

void GraphBuilder::Finish(std::vector<std::string> values, const std::vector<std::size_t>& open_ranks) {
  std::set<std::string> read;
  for (const onnx::NodeProto& node : model_.graph().node()) read.insert(node.input().begin(), node.input().end());
  for (std::size_t i = 0; i < info_.inputs.size(); ++i) {
    if (read.contains(InputName(info_, i)) || values.empty()) continue;
    values[0] = Op("Add", {values[0], ZeroFrom(i)});
  }
  onnx::GraphProto* graph = model_.mutable_graph();
  for (std::size_t i = 0; i < values.size() && i < info_.outputs.size(); ++i) {
    const models::TensorSpec& spec = info_.outputs[i];
    const std::string name = OutputName(info_, i);
    if (spec.type == models::ElementType::kFloat32) {
      Op("Identity", {values[i]}, {}, name);
    } else {
      Op("Cast", {values[i]}, {IntAttr("to", ToOnnxType(spec.type))}, name);
    }
    DeclareValue(*graph->add_output(), name, spec, name + "_", i < open_ranks.size() ? open_ranks[i] : 0);
  }
}

std::int64_t InitializerElements(const onnx::GraphProto& graph) {
  std::int64_t total = 0;
  for (const onnx::TensorProto& tensor : graph.initializer()) {
    std::int64_t count = 1;
    for (const std::int64_t dim : tensor.dims()) count *= dim;
    total += count;
  }
  return total;
}

Status WriteModel(const onnx::ModelProto& model, const std::string& path) {
  if (model.ByteSizeLong() > static_cast<std::size_t>(INT_MAX)) {
    return {ErrorCode::kUsage, path + ": model exceeds protobuf's 2 GiB limit; ask for fewer parameters"};
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return {ErrorCode::kInternal, path + ": generated model fails the ONNX checker: " + e.what()};
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return {ErrorCode::kOutputFailed, path + ": cannot open for writing"};
  try {
    if (!model.SerializeToOstream(&out)) return {ErrorCode::kOutputFailed, path + ": writing the model failed"};
    out.close();
  } catch (const std::exception& e) {
    return {ErrorCode::kInternal, path + ": serialising the model failed: " + e.what()};
  }
  if (!out) return {ErrorCode::kOutputFailed, path + ": writing the model failed (disk full?)"};
  return Status::Ok();
}

}  // namespace facefleet::modelgen
