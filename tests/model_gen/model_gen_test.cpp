// Loads every generated model in ONNX Runtime (CPU) and checks its contract and the function it computes.
#include "model_gen.hpp"

#include <onnxruntime_cxx_api.h>

#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "support/test_support.hpp"

namespace facefleet::modelgen {
namespace {

using models::ElementType;
using models::ModelInfo;

const ModelInfo& Model(std::string_view name) {
  const ModelInfo* info = models::FindModel(name);
  if (info == nullptr) throw std::runtime_error("unknown model " + std::string(name));
  return *info;
}

Ort::Env& Env() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "model_gen_test");
  return env;
}

Ort::Session Open(const std::string& path) {
  Ort::SessionOptions options;
  options.SetIntraOpNumThreads(1);
  return {Env(), path.c_str(), options};
}

ONNXTensorElementDataType OrtType(ElementType type) {
  switch (type) {
    case ElementType::kFloat32:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case ElementType::kFloat16:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case ElementType::kFloat64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case ElementType::kInt64:
      return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

void ExpectTensorContract(const Ort::TypeInfo& type, const models::TensorSpec& spec, const std::string& what) {
  const auto tensor = type.GetTensorTypeAndShapeInfo();
  EXPECT_EQ(tensor.GetElementType(), OrtType(spec.type)) << what;
  // ORT reports symbolic dims as -1. An open contract shape (yunet) is declared with all dims symbolic.
  const std::vector<std::int64_t> expected =
      spec.shape.empty() ? std::vector<std::int64_t>(tensor.GetDimensionsCount(), -1) : spec.shape;
  EXPECT_EQ(tensor.GetShape(), expected) << what;
  std::vector<const char*> symbols(tensor.GetDimensionsCount());
  tensor.GetSymbolicDimensions(symbols.data(), symbols.size());
  for (std::size_t i = 0; i < expected.size() && i < symbols.size(); ++i) {
    const bool symbolic = std::strlen(symbols[i]) > 0;
    EXPECT_EQ(symbolic, expected[i] < 0) << what << " dim " << i;
  }
}

// Names, element types and shapes of all inputs and outputs equal the registry contract.
void ExpectContract(const Ort::Session& session, const ModelInfo& info) {
  Ort::AllocatorWithDefaultOptions allocator;
  ASSERT_EQ(session.GetInputCount(), info.inputs.size()) << info.name;
  for (std::size_t i = 0; i < info.inputs.size(); ++i) {
    EXPECT_EQ(std::string(session.GetInputNameAllocated(i, allocator).get()), info.inputs[i].name) << info.name;
    ExpectTensorContract(session.GetInputTypeInfo(i), info.inputs[i], std::string(info.name) + " input");
  }
  ASSERT_EQ(session.GetOutputCount(), info.outputs.size()) << info.name;
  for (std::size_t i = 0; i < info.outputs.size(); ++i) {
    const std::string expected = !info.outputs[i].name.empty() ? std::string(info.outputs[i].name)
                                 : i == 0                      ? "output"
                                                               : "output_" + std::to_string(i);
    EXPECT_EQ(std::string(session.GetOutputNameAllocated(i, allocator).get()), expected) << info.name;
    ExpectTensorContract(session.GetOutputTypeInfo(i), info.outputs[i], std::string(info.name) + " output");
  }
}

struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;      // float32 tensors
  std::vector<double> doubles;  // float64 tensors (codeformer's weight)
};

// Random [-1, 1) inputs per the contract; dynamic dims become `side` (images) or 2 (batch dims).
std::vector<Tensor> MakeInputs(const ModelInfo& info, std::uint32_t seed, std::int64_t side = 64) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0F, 1.0F);
  std::vector<Tensor> inputs;
  for (const models::TensorSpec& spec : info.inputs) {
    Tensor t;
    t.shape = spec.shape;
    std::int64_t count = 1;
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (t.shape[i] < 0) t.shape[i] = (spec.shape.size() == 4 && i >= 2) ? side : 2;
      count *= t.shape[i];
    }
    for (std::int64_t i = 0; i < count; ++i) {
      if (spec.type == ElementType::kFloat64) {
        t.doubles.push_back(uniform(rng));
      } else {
        t.data.push_back(uniform(rng));
      }
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

std::vector<Tensor> RunModel(Ort::Session& session, std::vector<Tensor>& inputs) {
  Ort::AllocatorWithDefaultOptions allocator;
  const Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<Ort::AllocatedStringPtr> name_storage;
  std::vector<const char*> input_names;
  std::vector<const char*> output_names;
  std::vector<Ort::Value> values;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    name_storage.push_back(session.GetInputNameAllocated(i, allocator));
    input_names.push_back(name_storage.back().get());
    Tensor& t = inputs[i];
    values.push_back(t.doubles.empty() ? Ort::Value::CreateTensor<float>(memory, t.data.data(), t.data.size(),
                                                                         t.shape.data(), t.shape.size())
                                       : Ort::Value::CreateTensor<double>(memory, t.doubles.data(), t.doubles.size(),
                                                                          t.shape.data(), t.shape.size()));
  }
  for (std::size_t i = 0; i < session.GetOutputCount(); ++i) {
    name_storage.push_back(session.GetOutputNameAllocated(i, allocator));
    output_names.push_back(name_storage.back().get());
  }
  std::vector<Ort::Value> results = session.Run(Ort::RunOptions{nullptr}, input_names.data(), values.data(),
                                                values.size(), output_names.data(), output_names.size());
  std::vector<Tensor> outputs;
  for (Ort::Value& value : results) {
    const auto info = value.GetTensorTypeAndShapeInfo();
    const float* data = value.GetTensorData<float>();
    outputs.push_back({info.GetShape(), std::vector<float>(data, data + info.GetElementCount()), {}});
  }
  return outputs;
}

Tensor& TensorNamed(const ModelInfo& info, std::vector<Tensor>& inputs, std::string_view name) {
  for (std::size_t i = 0; i < info.inputs.size(); ++i) {
    if (info.inputs[i].name == name) return inputs[i];
  }
  throw std::runtime_error("no input " + std::string(name));
}

// The model file read back with libonnx.
onnx::ModelProto LoadProto(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromIstream(&in)) << path;
  return model;
}

std::vector<float> FloatData(const onnx::TensorProto& tensor) {
  if (tensor.float_data_size() > 0) return {tensor.float_data().begin(), tensor.float_data().end()};
  std::vector<float> values(tensor.raw_data().size() / sizeof(float));
  std::memcpy(values.data(), tensor.raw_data().data(), values.size() * sizeof(float));
  return values;
}

TEST(ModelGenTest, IdentitySwapperReturnsTargetForEverySwapperContract) {
  const testing::TempDir dir;
  for (const ModelInfo& info : models::AllModels()) {
    if (info.kind != models::ModelKind::kSwapper) continue;
    const std::string path = dir.File(std::string(info.file));
    ASSERT_TRUE(WriteIdentitySwapper(info, {}, path).ok()) << info.name;
    Ort::Session session = Open(path);
    ExpectContract(session, info);
    std::vector<Tensor> inputs = MakeInputs(info, 3);
    const std::vector<float> target = TensorNamed(info, inputs, "target").data;
    std::vector<Tensor> outputs = RunModel(session, inputs);
    ASSERT_EQ(outputs.size(), 1U);
    EXPECT_EQ(outputs[0].shape, info.outputs[0].shape) << info.name;
    EXPECT_EQ(outputs[0].data, target) << info.name;  // exactly, bit for bit
  }
}

TEST(ModelGenTest, IdentitySwapperStoresTheEmapAsTheLastInitializer) {
  const testing::TempDir dir;
  const ModelInfo& info = Model("inswapper_128");
  std::vector<float> emap(512 * 512);
  for (std::size_t i = 0; i < emap.size(); ++i) emap[i] = std::sin(static_cast<float>(i) * 0.01F);
  const std::string path = dir.File("inswapper_128.onnx");
  ASSERT_TRUE(WriteIdentitySwapper(info, emap, path).ok());

  const onnx::ModelProto model = LoadProto(path);
  EXPECT_EQ(model.ir_version(), 8);
  ASSERT_EQ(model.opset_import_size(), 1);
  EXPECT_EQ(model.opset_import(0).version(), 17);
  ASSERT_GT(model.graph().initializer_size(), 1);  // the emap is not the only one: it must be the last
  const onnx::TensorProto& last = model.graph().initializer(model.graph().initializer_size() - 1);
  EXPECT_EQ(std::vector<std::int64_t>(last.dims().begin(), last.dims().end()), (std::vector<std::int64_t>{512, 512}));
  EXPECT_EQ(last.data_type(), onnx::TensorProto_DataType_FLOAT);
  EXPECT_EQ(FloatData(last), emap);

  // The source has no effect on the output, but the model still takes it.
  Ort::Session session = Open(path);
  ExpectContract(session, info);
  std::vector<Tensor> inputs = MakeInputs(info, 4);
  const std::vector<Tensor> first = RunModel(session, inputs);
  for (float& v : TensorNamed(info, inputs, "source").data) v = -v * 3.0F;
  EXPECT_EQ(RunModel(session, inputs)[0].data, first[0].data);
  EXPECT_EQ(first[0].data, TensorNamed(info, inputs, "target").data);
}

TEST(ModelGenTest, ConstantSwapperReturnsTheConstantPerChannel) {
  const testing::TempDir dir;
  const ModelInfo& info = Model("hyperswap_1a_256");
  const std::array<float, 3> value = {0.25F, -0.5F, 0.75F};
  const std::string path = dir.File("hyperswap.onnx");
  ASSERT_TRUE(WriteConstantSwapper(info, value, path).ok());
  Ort::Session session = Open(path);
  ExpectContract(session, info);
  std::vector<Tensor> inputs = MakeInputs(info, 5);
  const std::vector<Tensor> outputs = RunModel(session, inputs);
  ASSERT_EQ(outputs[0].shape, (std::vector<std::int64_t>{1, 3, 256, 256}));
  const std::size_t plane = 256 * 256;
  for (std::size_t i = 0; i < outputs[0].data.size(); ++i) {
    ASSERT_EQ(outputs[0].data[i], value[i / plane]) << "element " << i;
  }
}

TEST(ModelGenTest, LinearRecognizerIsAveragePoolThenTheSeededMatrix) {
  const testing::TempDir dir;
  const ModelInfo& info = Model("arcface_w600k_r50");
  const std::string path = dir.File("arcface.onnx");
  ASSERT_TRUE(WriteLinearRecognizer(info, 42, path).ok());
  Ort::Session session = Open(path);
  ExpectContract(session, info);
  std::vector<Tensor> inputs = MakeInputs(info, 6);
  const std::vector<Tensor> outputs = RunModel(session, inputs);
  ASSERT_EQ(outputs[0].shape, (std::vector<std::int64_t>{1, 512}));

  // By hand: 28x28 block means of the (3,112,112) crop, in (c, row, col) order, times the 48x512 matrix.
  const std::vector<float>& x = inputs[0].data;
  std::vector<double> pooled(48, 0.0);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 112; ++y) {
      for (int col = 0; col < 112; ++col) pooled[(c * 16) + (y / 28 * 4) + (col / 28)] += x[(c * 112 + y) * 112 + col];
    }
  }
  for (double& p : pooled) p /= 28.0 * 28.0;
  const std::vector<float> weights = UniformWeights(42, 48 * 512);
  for (std::size_t j = 0; j < 512; ++j) {
    double expected = 0.0;
    for (std::size_t k = 0; k < 48; ++k) expected += pooled[k] * weights[k * 512 + j];
    ASSERT_NEAR(outputs[0].data[j], expected, 1e-4) << "embedding " << j;
  }
  // A different seed is a different map.
  ASSERT_TRUE(WriteLinearRecognizer(info, 43, path).ok());
  Ort::Session other = Open(path);
  EXPECT_NE(RunModel(other, inputs)[0].data, outputs[0].data);
}

// y = reshape(x) . W + b, checked for fan_68_5 (5x2 -> 68x2) and a batch of two crossface embeddings.
TEST(ModelGenTest, LinearModelComputesAffineMapRowByRow) {
  const testing::TempDir dir;
  for (const auto& [name, k, m] : {std::tuple{"fan_68_5", 10, 136}, std::tuple{"crossface_simswap", 512, 512}}) {
    const ModelInfo& info = Model(name);
    const std::vector<float> weights = UniformWeights(7, static_cast<std::size_t>(k * m));
    const std::vector<float> bias = UniformWeights(8, static_cast<std::size_t>(m));
    const std::string path = dir.File(std::string(name) + ".onnx");
    ASSERT_TRUE(WriteLinearModel(info, weights, bias, path).ok()) << name;
    Ort::Session session = Open(path);
    ExpectContract(session, info);
    std::vector<Tensor> inputs = MakeInputs(info, 9);
    const std::vector<Tensor> outputs = RunModel(session, inputs);
    std::vector<std::int64_t> expected_shape = info.outputs[0].shape;
    if (expected_shape[0] < 0) expected_shape[0] = 2;  // MakeInputs' batch of two
    ASSERT_EQ(outputs[0].shape, expected_shape) << name;
    const std::size_t rows = inputs[0].data.size() / static_cast<std::size_t>(k);
    for (std::size_t r = 0; r < rows; ++r) {
      for (int j = 0; j < m; ++j) {
        double expected = bias[j];
        for (int i = 0; i < k; ++i) expected += double{inputs[0].data[r * k + i]} * weights[i * m + j];
        ASSERT_NEAR(outputs[0].data[r * m + j], expected, 1e-4) << name << " row " << r << " col " << j;
      }
    }
  }
  EXPECT_EQ(
      WriteLinearModel(Model("fan_68_5"), std::vector<float>(9 * 136), std::vector<float>(136), dir.File("bad.onnx"))
          .code(),
      ErrorCode::kUsage);
}

TEST(ModelGenTest, IdentityEnhancerReturnsItsInputAndTakesCodeformersWeight) {
  const testing::TempDir dir;
  for (const std::string_view name : {"gfpgan_1.4", "codeformer"}) {
    const ModelInfo& info = Model(name);
    const std::string path = dir.File(std::string(name) + ".onnx");
    ASSERT_TRUE(WriteIdentityEnhancer(info, path).ok()) << name;
    Ort::Session session = Open(path);
    ExpectContract(session, info);  // codeformer: `weight` stays a float64 (1) input
    std::vector<Tensor> inputs = MakeInputs(info, 10);
    EXPECT_EQ(RunModel(session, inputs)[0].data, inputs[0].data) << name;
  }
}

TEST(ModelGenTest, ConstantOutputsReturnTheGivenTensors) {
  const testing::TempDir dir;
  // scrfd: 9 outputs with a dynamic first dim (one of them empty); 2dfan4: fixed shapes; yunet: open shapes.
  for (const std::string_view name : {"scrfd_2.5g", "2dfan4", "yunet_2023_mar"}) {
    const ModelInfo& info = Model(name);
    std::vector<ConstantOutput> constants;
    for (std::size_t i = 0; i < info.outputs.size(); ++i) {
      ConstantOutput c{.shape = info.outputs[i].shape, .data = {}};
      if (c.shape.empty()) c.shape = {1, static_cast<std::int64_t>(i + 1), 2};
      for (std::int64_t& d : c.shape) d = d < 0 ? static_cast<std::int64_t>(i % 4) : d;
      std::int64_t count = 1;
      for (const std::int64_t d : c.shape) count *= d;
      for (std::int64_t v = 0; v < count; ++v) c.data.push_back(static_cast<float>(v) * 0.5F - static_cast<float>(i));
      constants.push_back(std::move(c));
    }
    const std::string path = dir.File(std::string(name) + ".onnx");
    const Status written = WriteConstantOutputs(info, constants, path);
    ASSERT_TRUE(written.ok()) << written.ToString();
    Ort::Session session = Open(path);
    ExpectContract(session, info);
    std::vector<Tensor> inputs = MakeInputs(info, 11);
    const std::vector<Tensor> outputs = RunModel(session, inputs);
    ASSERT_EQ(outputs.size(), constants.size()) << name;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      EXPECT_EQ(outputs[i].shape, constants[i].shape) << name << " output " << i;
      EXPECT_EQ(outputs[i].data, constants[i].data) << name << " output " << i;
    }
  }
}

TEST(ModelGenTest, ConstantOutputsRejectTensorsOutsideTheContract) {
  const testing::TempDir dir;
  const ModelInfo& info = Model("2dfan4");
  const std::string path = dir.File("bad.onnx");
  const ConstantOutput heatmaps{.shape = {1, 68, 64, 64}, .data = std::vector<float>(68 * 64 * 64)};
  const ConstantOutput wrong_dim{.shape = {1, 68, 2}, .data = std::vector<float>(136)};
  const ConstantOutput wrong_count{.shape = {1, 68, 3}, .data = std::vector<float>(10)};
  EXPECT_EQ(WriteConstantOutputs(info, {wrong_dim, heatmaps}, path).code(), ErrorCode::kUsage);
  EXPECT_EQ(WriteConstantOutputs(info, {wrong_count, heatmaps}, path).code(), ErrorCode::kUsage);
  EXPECT_EQ(WriteConstantOutputs(info, {heatmaps}, path).code(), ErrorCode::kUsage);
}

TEST(ModelGenTest, ReportsUsageAndIoErrors) {
  const testing::TempDir dir;
  EXPECT_EQ(WriteIdentitySwapper(Model("arcface_w600k_r50"), {}, dir.File("a.onnx")).code(), ErrorCode::kUsage);
  EXPECT_EQ(WriteIdentitySwapper(Model("inswapper_128"), std::vector<float>(512), dir.File("a.onnx")).code(),
            ErrorCode::kUsage);
  EXPECT_EQ(WriteIdentityEnhancer(Model("inswapper_128"), dir.File("a.onnx")).code(), ErrorCode::kUsage);
  EXPECT_EQ(WriteIdentityEnhancer(Model("gfpgan_1.4"), dir.File("missing/dir/a.onnx")).code(),
            ErrorCode::kOutputFailed);
  EXPECT_EQ(WriteRandomWeightModel(Model("gfpgan_1.4"), 1000, 1, dir.File("a.onnx")).code(), ErrorCode::kUsage);
  EXPECT_EQ(CountParameters(dir.File("absent.onnx")).status().code(), ErrorCode::kModelUnavailable);
  testing::WriteBytes(dir.File("junk.onnx"), {0xff, 0xff, 0xff, 0x01});
  EXPECT_EQ(CountParameters(dir.File("junk.onnx")).status().code(), ErrorCode::kModelUnavailable);
}

TEST(ModelGenTest, CountParametersSumsInitializerElements) {
  const testing::TempDir dir;
  const std::string path = dir.File("fan.onnx");
  ASSERT_TRUE(WriteLinearModel(Model("fan_68_5"), std::vector<float>(10 * 136), std::vector<float>(136), path).ok());
  const Result<std::int64_t> count = CountParameters(path);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  // W and b, plus the two int64 shape constants of the Reshapes (2 and 3 elements).
  EXPECT_EQ(*count, 10 * 136 + 136 + 2 + 3);
}

struct RandomCase {
  std::string_view name;
  std::int64_t parameters;
  std::int64_t side;  // dynamic image sides at run time
};

class RandomWeightModelTest : public ::testing::TestWithParam<RandomCase> {};

// Every head kind: swapper (source-conditioned decoder), recognizer (vector), anchor detector, landmarker
// (vector + heatmaps), NHWC occluder, dense detector, enhancer with an unused float64 input, MLP.
INSTANTIATE_TEST_SUITE_P(Contracts, RandomWeightModelTest,
                         ::testing::Values(RandomCase{"inswapper_128", 1'500'000, 0},
                                           RandomCase{"arcface_w600k_r50", 1'000'000, 0},
                                           RandomCase{"scrfd_2.5g", 800'000, 320}, RandomCase{"2dfan4", 1'000'000, 0},
                                           RandomCase{"xseg_1", 600'000, 0}, RandomCase{"yoloface_8n", 500'000, 0},
                                           RandomCase{"codeformer", 2'000'000, 0}, RandomCase{"fan_68_5", 50'000, 0}),
                         [](const auto& param) {
                           std::string name(param.param.name);
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST_P(RandomWeightModelTest, HitsTheParameterTargetAndRunsWithTheContract) {
  const testing::TempDir dir;
  const ModelInfo& info = Model(GetParam().name);
  const std::string path = dir.File("random.onnx");
  const Status written = WriteRandomWeightModel(info, GetParam().parameters, 123, path);
  ASSERT_TRUE(written.ok()) << written.ToString();
  const Result<std::int64_t> count = CountParameters(path);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_NEAR(static_cast<double>(*count), static_cast<double>(GetParam().parameters), 0.05 * GetParam().parameters);

  Ort::Session session = Open(path);
  ExpectContract(session, info);
  std::vector<Tensor> inputs = MakeInputs(info, 12, GetParam().side);
  const std::vector<Tensor> outputs = RunModel(session, inputs);
  ASSERT_EQ(outputs.size(), info.outputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::vector<std::int64_t>& contract = info.outputs[i].shape;
    ASSERT_EQ(outputs[i].shape.size(), contract.size()) << "output " << i;
    for (std::size_t d = 0; d < contract.size(); ++d) {
      if (contract[d] >= 0) {
        EXPECT_EQ(outputs[i].shape[d], contract[d]) << "output " << i << " dim " << d;
      }
    }
    for (const float v : outputs[i].data) ASSERT_TRUE(std::isfinite(v)) << "output " << i;
  }
}

// InsightFace layout: output i holds (side / stride)^2 * 2 anchors of width 1, 4 or 10, stride 8 << (i % 3).
TEST(ModelGenTest, RandomDetectorHasInsightFaceAnchorCounts) {
  const testing::TempDir dir;
  const ModelInfo& info = Model("scrfd_2.5g");
  const std::string path = dir.File("scrfd.onnx");
  ASSERT_TRUE(WriteRandomWeightModel(info, 800'000, 5, path).ok());
  Ort::Session session = Open(path);
  std::vector<Tensor> inputs = MakeInputs(info, 13, 320);
  const std::vector<Tensor> outputs = RunModel(session, inputs);
  ASSERT_EQ(outputs.size(), 9U);
  for (std::size_t i = 0; i < 9; ++i) {
    const std::int64_t cells = 320 / (8 << (i % 3));
    EXPECT_EQ(outputs[i].shape, (std::vector<std::int64_t>{cells * cells * 2, info.outputs[i].shape[1]})) << i;
  }
}

TEST(ModelGenTest, RandomSwapperOutputDependsOnTheSource) {
  const testing::TempDir dir;
  const ModelInfo& info = Model("inswapper_128");
  const std::string path = dir.File("inswapper.onnx");
  ASSERT_TRUE(WriteRandomWeightModel(info, 1'500'000, 9, path).ok());
  Ort::Session session = Open(path);
  std::vector<Tensor> inputs = MakeInputs(info, 14);
  const std::vector<float> first = RunModel(session, inputs)[0].data;
  EXPECT_EQ(RunModel(session, inputs)[0].data, first);  // deterministic for the same inputs
  for (float& v : TensorNamed(info, inputs, "source").data) v = -v;
  const std::vector<float> second = RunModel(session, inputs)[0].data;
  ASSERT_EQ(second.size(), first.size());
  std::size_t changed = 0;
  for (std::size_t i = 0; i < first.size(); ++i) changed += first[i] != second[i] ? 1 : 0;
  EXPECT_GT(changed, first.size() / 2);
}

}  // namespace
}  // namespace facefleet::modelgen
