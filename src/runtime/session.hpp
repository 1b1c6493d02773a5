// ONNX Runtime sessions: one environment per process, execution-provider selection with fallback, and
// load-time validation of every model's tensor contract against the registry.
//
// Thread safety: Environment() is safe to call from any thread. A Session is immutable after Load and its
// Run() may be called from several threads at once (ONNX Runtime sessions are re-entrant), so workers share
// one Session per model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "facefleet/status.hpp"
#include "models/registry.hpp"

namespace Ort {  // NOLINT(readability-identifier-naming): ONNX Runtime's own namespace
struct Env;
struct Session;
struct Value;
}  // namespace Ort

namespace facefleet::runtime {

struct RuntimeOptions {
  // Preference order; each of "tensorrt", "cuda", "cpu". A provider that cannot be used here (library
  // missing, no driver, not compiled in) is skipped with one warning; "cpu" is always the last resort.
  std::vector<std::string> execution_providers = {"cpu"};
  int device_id = 0;
  int thread_count = 0;                              // intra-op threads; 0 = ONNX Runtime's default
  std::string cudnn_conv_algo_search = "HEURISTIC";  // EXHAUSTIVE | HEURISTIC | DEFAULT
  std::string tensorrt_cache_dir;                    // engine and timing caches; "" = no cache
  bool tensorrt_fp16 = true;                         // where the model allows
  // ONNX Runtime's intra-op threads busy-wait between runs by default. On small CPU budgets that spinning
  // competes with facefleet's own pre/post-processing between model runs, so it is off unless asked for.
  bool allow_spinning = false;
};

// Checks provider names ("cpu", "cuda", "tensorrt"); kUsage listing the valid ones otherwise.
Status ValidateProviders(const std::vector<std::string>& providers);

// Provider names compiled into the loaded ONNX Runtime library (ORT's own names, e.g. "CPUExecutionProvider").
std::vector<std::string> AvailableProviders();

// Wall time spent inside Session::Run by all sessions of this process, in nanoseconds (monotonic). Benchmarks
// subtract two readings to split a pipeline's time into model time and everything else.
std::int64_t InferenceNanoseconds();

// The process-wide ONNX Runtime environment (created on first use).
Ort::Env& Environment();

// A float32 or float64 input tensor over caller-owned memory (not copied).
struct TensorView {
  const void* data = nullptr;
  models::ElementType type = models::ElementType::kFloat32;
  std::vector<std::int64_t> shape;
};

// A float32 output copied out of ONNX Runtime (float16 outputs are widened).
struct Tensor {
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

class Session {
 public:
  // Loads `path`, checking it against `info` (input names, element types, ranks and fixed dimensions;
  // output count and shapes). Fails with kModelUnavailable naming the model and file: missing file,
  // truncated/invalid ONNX, or a contract mismatch (which says what differs).
  static Result<std::unique_ptr<Session>> Load(const models::ModelInfo& info, const std::string& path,
                                               const RuntimeOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs the model. `inputs` are in the order of info.inputs. Returns the outputs in model order.
  Result<std::vector<Tensor>> Run(std::span<const TensorView> inputs) const;

  const models::ModelInfo& info() const { return *info_; }
  // The providers this session actually uses, best first (e.g. {"cpu"} after a CUDA fallback).
  const std::vector<std::string>& providers() const { return providers_; }
  // The model's input names in info.inputs order (the file's own names, for unnamed specs too).
  const std::vector<std::string>& input_names() const { return input_names_; }

 private:
  Session() = default;
  Status CheckContract();  // fills input_names_/output_names_
  const models::ModelInfo* info_ = nullptr;
  std::unique_ptr<Ort::Session> session_;
  std::vector<std::string> providers_;
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
};

}  // namespace facefleet::runtime
