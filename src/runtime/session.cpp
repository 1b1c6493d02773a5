#include "runtime/session.hpp"

#include <dlfcn.h>
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>

#include "core/log.hpp"

namespace facefleet::runtime {
namespace {

using models::ElementType;

ONNXTensorElementDataType ToOrt(ElementType type) {
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

std::string ShapeText(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

// A contract dimension of -1, or a model dimension that is symbolic (<= 0), accepts anything.
bool ShapeMatches(const std::vector<std::int64_t>& spec, const std::vector<std::int64_t>& actual) {
  if (spec.empty()) return true;  // shape not part of the contract
  if (spec.size() != actual.size()) return false;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] > 0 && actual[i] > 0 && spec[i] != actual[i]) return false;
  }
  return true;
}

// The directory holding the loaded libonnxruntime.so: provider libraries are installed beside it.
std::string OrtLibraryDir() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<const void*>(&OrtGetApiBase), &info) == 0 || info.dli_fname == nullptr) return ".";
  return std::filesystem::path(info.dli_fname).parent_path().string();
}

// ONNX Runtime builds without CUDA compiled in (the npm package's core library) take CUDA as a plugin EP
// library: registered once per process, then appended per session for the matching device.
void AppendCudaPlugin(Ort::SessionOptions& so, const RuntimeOptions& o) {
  static std::once_flag once;
  static std::string registration_error;
  std::call_once(once, [] {
    const std::string path = OrtLibraryDir() + "/libonnxruntime_providers_cuda.so";
    if (!std::filesystem::exists(path)) {
      registration_error = path + " not found (install it with scripts/install-deps --gpu)";
      return;
    }
    try {
      Environment().RegisterExecutionProviderLibrary("facefleet_cuda", path);
    } catch (const Ort::Exception& e) {
      registration_error = e.what();  // typically: CUDA/cuDNN runtime libraries or the driver are missing
    }
  });
  if (!registration_error.empty()) throw Ort::Exception(std::string(registration_error), ORT_FAIL);
  std::vector<Ort::ConstEpDevice> devices;
  for (const auto& device : Environment().GetEpDevices()) {
    if (std::string_view(device.EpName()) == "CUDAExecutionProvider" &&
        static_cast<int>(device.Device().DeviceId()) == o.device_id) {
      devices.push_back(device);
    }
  }
  if (devices.empty()) throw Ort::Exception("no CUDA device " + std::to_string(o.device_id) + " found", ORT_FAIL);
  so.AppendExecutionProvider_V2(
      Environment(), devices,
      {{"device_id", std::to_string(o.device_id)}, {"cudnn_conv_algo_search", o.cudnn_conv_algo_search}});
}

// Builds of ONNX Runtime with CUDA compiled in (the official GPU packages) take the classic options struct.
void AppendCudaCompiledIn(Ort::SessionOptions& so, const RuntimeOptions& o) {
  const OrtApi& api = Ort::GetApi();
  OrtCUDAProviderOptionsV2* cuda = nullptr;
  Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
  const std::unique_ptr<OrtCUDAProviderOptionsV2, decltype(api.ReleaseCUDAProviderOptions)> guard(
      cuda, api.ReleaseCUDAProviderOptions);
  const std::string device = std::to_string(o.device_id);
  const char* keys[] = {"device_id", "cudnn_conv_algo_search"};
  const char* values[] = {device.c_str(), o.cudnn_conv_algo_search.c_str()};
  Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, values, 2));
  so.AppendExecutionProvider_CUDA_V2(*cuda);
}

// Appends CUDA or TensorRT; throws Ort::Exception when the provider cannot be used in this build/machine.
void AppendGpuProvider(Ort::SessionOptions& so, const std::string& name, const RuntimeOptions& o) {
  const OrtApi& api = Ort::GetApi();
  const std::string device = std::to_string(o.device_id);
  if (name == "cuda") {
    try {
      AppendCudaCompiledIn(so, o);
    } catch (const Ort::Exception&) {
      AppendCudaPlugin(so, o);  // the CPU core library plus the plugin provider library
    }
    return;
  }
  OrtTensorRTProviderOptionsV2* trt = nullptr;
  Ort::ThrowOnError(api.CreateTensorRTProviderOptions(&trt));
  const std::unique_ptr<OrtTensorRTProviderOptionsV2, decltype(api.ReleaseTensorRTProviderOptions)> guard(
      trt, api.ReleaseTensorRTProviderOptions);
  const bool cache = !o.tensorrt_cache_dir.empty();
  const std::string fp16 = o.tensorrt_fp16 ? "1" : "0";
  const char* keys[] = {"device_id",
                        "trt_fp16_enable",
                        "trt_engine_cache_enable",
                        "trt_timing_cache_enable",
                        "trt_engine_cache_path",
                        "trt_timing_cache_path"};
  const char* values[] = {device.c_str(),
                          fp16.c_str(),
                          cache ? "1" : "0",
                          cache ? "1" : "0",
                          o.tensorrt_cache_dir.c_str(),
                          o.tensorrt_cache_dir.c_str()};
  Ort::ThrowOnError(api.UpdateTensorRTProviderOptions(trt, keys, values, cache ? 6 : 4));
  so.AppendExecutionProvider_TensorRT_V2(*trt);
}

// Configures `so` with the usable providers from `wanted`; returns their names. Warns once per provider
// and process when one is skipped, so a CPU-only host is told why it runs on CPU without log spam.
std::vector<std::string> ConfigureProviders(Ort::SessionOptions& so, const RuntimeOptions& options) {
  static std::mutex warned_mutex;
  static std::vector<std::string> warned;  // guarded by warned_mutex
  std::vector<std::string> used;
  for (const std::string& name : options.execution_providers) {
    if (name == "cpu") break;  // CPU is implicit and always last
    try {
      AppendGpuProvider(so, name, options);
      used.push_back(name);
    } catch (const Ort::Exception& e) {
      std::lock_guard lock(warned_mutex);
      if (std::find(warned.begin(), warned.end(), name) == warned.end()) {
        warned.push_back(name);
        core::LogWarn("execution provider '" + name + "' is unavailable, falling back to the next one: " + e.what());
      }
    }
  }
  used.emplace_back("cpu");
  return used;
}

}  // namespace

namespace {
std::atomic<std::int64_t> g_inference_ns{0};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
}  // namespace

Status ValidateProviders(const std::vector<std::string>& providers) {
  if (providers.empty()) return {ErrorCode::kUsage, "--execution-providers needs at least one provider"};
  for (const auto& p : providers) {
    if (p != "cpu" && p != "cuda" && p != "tensorrt") {
      return {ErrorCode::kUsage, "unknown execution provider '" + p + "' (valid: tensorrt, cuda, cpu)"};
    }
  }
  return Status::Ok();
}

std::int64_t InferenceNanoseconds() { return g_inference_ns.load(std::memory_order_relaxed); }

std::vector<std::string> AvailableProviders() { return Ort::GetAvailableProviders(); }

Ort::Env& Environment() {
  static Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "facefleet");
  return env;
}

Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Load(const models::ModelInfo& info, const std::string& path,
                                               const RuntimeOptions& options) {
  const std::string what = std::string(info.name) + " (" + path + ")";
  if (!std::filesystem::is_regular_file(path)) {
    return Status(ErrorCode::kModelUnavailable, what + ": model file not found; run 'facefleet models pull " +
                                                    std::string(info.name) + "' or download " +
                                                    models::DownloadUrls(info)[0] + " to that path");
  }
  std::unique_ptr<Session> session(new Session());
  session->info_ = &info;
  try {
    Ort::SessionOptions so;
    if (options.thread_count > 0) so.SetIntraOpNumThreads(options.thread_count);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    if (!options.allow_spinning) so.AddConfigEntry("session.intra_op.allow_spinning", "0");
    session->providers_ = ConfigureProviders(so, options);
    session->session_ = std::make_unique<Ort::Session>(Environment(), path.c_str(), so);
  } catch (const Ort::Exception& e) {
    return Status(ErrorCode::kModelUnavailable, what + ": not a valid ONNX model or truncated: " + e.what());
  }
  Status contract = session->CheckContract();
  if (!contract.ok()) return Status(contract.code(), what + ": " + contract.message());
  return session;
}

}  // namespace facefleet::runtime

namespace facefleet::runtime {
namespace {

struct ModelTensor {
  std::string name;
  ONNXTensorElementDataType type;
  std::vector<std::int64_t> shape;
};

std::vector<ModelTensor> Describe(const Ort::Session& session, bool inputs) {
  Ort::AllocatorWithDefaultOptions allocator;
  const std::size_t count = inputs ? session.GetInputCount() : session.GetOutputCount();
  std::vector<ModelTensor> out;
  for (std::size_t i = 0; i < count; ++i) {
    const Ort::TypeInfo type = inputs ? session.GetInputTypeInfo(i) : session.GetOutputTypeInfo(i);
    const auto tensor = type.GetTensorTypeAndShapeInfo();
    auto name = inputs ? session.GetInputNameAllocated(i, allocator) : session.GetOutputNameAllocated(i, allocator);
    out.push_back({name.get(), tensor.GetElementType(), tensor.GetShape()});
  }
  return out;
}

Status Mismatch(const std::string& which, const models::TensorSpec& spec, const ModelTensor& actual) {
  return {ErrorCode::kModelUnavailable, which + " '" + actual.name + "' has type " + std::to_string(actual.type) +
                                            " shape " + ShapeText(actual.shape) + ", expected type " +
                                            std::to_string(ToOrt(spec.type)) + " shape " + ShapeText(spec.shape)};
}

}  // namespace

Status Session::CheckContract() {
  const auto inputs = Describe(*session_, true);
  const auto outputs = Describe(*session_, false);
  if (inputs.size() != info_->inputs.size()) {
    return {ErrorCode::kModelUnavailable, "expected " + std::to_string(info_->inputs.size()) +
                                              " input(s), the file has " + std::to_string(inputs.size())};
  }
  for (std::size_t i = 0; i < info_->inputs.size(); ++i) {
    const models::TensorSpec& spec = info_->inputs[i];
    auto it = spec.name.empty() ? inputs.begin() + static_cast<std::ptrdiff_t>(i)
                                : std::find_if(inputs.begin(), inputs.end(),
                                               [&](const ModelTensor& t) { return t.name == spec.name; });
    if (it == inputs.end()) return {ErrorCode::kModelUnavailable, "missing input '" + std::string(spec.name) + "'"};
    if (it->type != ToOrt(spec.type) || !ShapeMatches(spec.shape, it->shape)) return Mismatch("input", spec, *it);
    input_names_.push_back(it->name);
  }
  if (outputs.size() < info_->outputs.size()) {
    return {ErrorCode::kModelUnavailable, "expected " + std::to_string(info_->outputs.size()) +
                                              " output(s), the file has " + std::to_string(outputs.size())};
  }
  for (std::size_t i = 0; i < info_->outputs.size(); ++i) {
    const bool type_ok = outputs[i].type == ToOrt(info_->outputs[i].type) ||
                         outputs[i].type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;  // fp16 models are widened
    if (!type_ok || !ShapeMatches(info_->outputs[i].shape, outputs[i].shape)) {
      return Mismatch("output", info_->outputs[i], outputs[i]);
    }
  }
  for (const auto& o : outputs) output_names_.push_back(o.name);
  return Status::Ok();
}

Result<std::vector<Tensor>> Session::Run(std::span<const TensorView> inputs) const {
  if (inputs.size() != input_names_.size()) return Status(ErrorCode::kInternal, "wrong number of inputs");
  try {
    const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    // I/O binding: inputs are bound over the caller's memory (no copy on CPU) and outputs are allocated by
    // the session on the host, so a GPU provider copies each tensor exactly once per direction.
    Ort::IoBinding binding(*session_);
    std::vector<Ort::Value> values;
    values.reserve(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const TensorView& in = inputs[i];
      std::size_t count = 1;
      for (const auto d : in.shape) count *= static_cast<std::size_t>(d);
      const std::size_t bytes = count * (in.type == models::ElementType::kFloat64 ? 8 : 4);
      values.push_back(Ort::Value::CreateTensor(cpu, const_cast<void*>(in.data), bytes, in.shape.data(),
                                                in.shape.size(), ToOrt(in.type)));
      binding.BindInput(input_names_[i].c_str(), values.back());
    }
    for (const auto& name : output_names_) binding.BindOutput(name.c_str(), cpu);
    const auto started = std::chrono::steady_clock::now();
    session_->Run(Ort::RunOptions{nullptr}, binding);
    g_inference_ns.fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count(),
        std::memory_order_relaxed);
    std::vector<Tensor> out;
    for (Ort::Value& value : binding.GetOutputValues()) {
      const auto shape_info = value.GetTensorTypeAndShapeInfo();
      Tensor tensor{shape_info.GetShape(), std::vector<float>(shape_info.GetElementCount())};
      if (shape_info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16) {
        const auto* half = value.GetTensorData<Ort::Float16_t>();
        for (std::size_t i = 0; i < tensor.data.size(); ++i) tensor.data[i] = half[i].ToFloat();
      } else if (shape_info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
        std::copy_n(value.GetTensorData<float>(), tensor.data.size(), tensor.data.begin());
      } else {
        return Status(ErrorCode::kInternal, std::string(info_->name) + ": unsupported output element type");
      }
      out.push_back(std::move(tensor));
    }
    return out;
  } catch (const Ort::Exception& e) {
    return Status(ErrorCode::kInternal, std::string(info_->name) + ": inference failed: " + e.what());
  }
}

}  // namespace facefleet::runtime
