// facefleet-bench-models: speed of the neural models and of the neural image pipeline, on random-weight
// graphs with the real contracts and roughly the real parameter counts (tests/model_gen). Reports:
//   1. ms/run per model with 1 and 2 intra-op threads (the execution provider is --execution-providers);
//   2. one neural image swap (scrfd_2.5g + 2dfan4 + arcface + inswapper_128 + gfpgan_1.4), its wall time
//      next to the time spent inside the models: the pipeline goal is wall <= 1.15 x model time.
// Usage: facefleet-bench-models [--models-dir DIR] [--runs N] [--execution-providers cpu|cuda|tensorrt]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/stopwatch.hpp"
#include "facefleet/facefleet.hpp"
#include "model_gen.hpp"
#include "models/onnx_models.hpp"
#include "runtime/session.hpp"

namespace {

namespace fs = std::filesystem;
using facefleet::models::ModelInfo;

// Parameter targets: inswapper_128 138.3 M (deepinsight inswapper-512-live README); the others from the
// registry's approximate file sizes at 4 bytes per float32 parameter.
struct Target {
  const char* name;
  std::int64_t parameters;
};
constexpr Target kTargets[] = {{"scrfd_2.5g", 800'000},
                               {"2dfan4", 24'000'000},
                               {"arcface_w600k_r50", 43'500'000},
                               {"inswapper_128", 138'300'000},
                               {"gfpgan_1.4", 85'000'000}};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Zero-filled inputs matching the contract (dynamic dims: 640 for detectors).
std::vector<std::vector<double>> Buffers(const ModelInfo& info, std::vector<facefleet::runtime::TensorView>& views) {
  std::vector<std::vector<double>> storage;
  for (const auto& spec : info.inputs) {
    std::vector<std::int64_t> shape = spec.shape;
    std::size_t count = 1;
    for (auto& d : shape) {
      if (d < 0) d = 640;
      count *= static_cast<std::size_t>(d);
    }
    storage.emplace_back(count, 0.0);  // doubles: large enough for float32 or float64 elements
    views.push_back({storage.back().data(), spec.type, shape});
  }
  return storage;
}

double TimeModel(const ModelInfo& info, const std::string& dir, int threads, int runs,
                 const std::vector<std::string>& eps) {
  facefleet::models::LoadOptions load{dir, {}};
  load.runtime.thread_count = threads;
  load.runtime.execution_providers = eps;
  auto session = facefleet::models::LoadSession(info, load);
  if (!session.ok()) {
    std::fprintf(stderr, "%s\n", session.status().ToString().c_str());
    throw std::runtime_error("benchmark step failed");
  }
  std::vector<facefleet::runtime::TensorView> views;
  const auto storage = Buffers(info, views);
  (void)(*session)->Run(views);  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    facefleet::core::Stopwatch watch;
    if (!(*session)->Run(views).ok()) throw std::runtime_error("benchmark step failed");
    ms.push_back(watch.LapMs());
  }
  return Median(ms);
}

void GenerateModels(const std::string& dir) {
  fs::create_directories(dir);
  for (const Target& t : kTargets) {
    const ModelInfo& info = *facefleet::models::FindModel(t.name);
    const std::string path = (fs::path(dir) / std::string(info.file)).string();
    if (fs::exists(path)) continue;
    std::fprintf(stderr, "generating %s (%lld parameters)\n", t.name, static_cast<long long>(t.parameters));
    if (facefleet::Status s = facefleet::modelgen::WriteRandomWeightModel(info, t.parameters, 1, path); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      throw std::runtime_error("benchmark step failed");
    }
  }
}

void PipelineBreakdown(const std::string& dir, int runs, const std::vector<std::string>& eps) {
  facefleet::EngineOptions engine_options;
  engine_options.models_dir = dir;
  engine_options.execution_providers = eps;
  auto engine = facefleet::Engine::Create(engine_options);
  facefleet::SwapOptions o;
  o.source_paths = {FACEFLEET_SAMPLE_GRACE};
  o.target_path = FACEFLEET_SAMPLE_ASTRONAUT;
  o.output_path = (fs::temp_directory_path() / "facefleet-bench-neural.jpg").string();
  o.face_detector_model = "scrfd_2.5g";
  o.face_landmarker_model = "2dfan4";
  o.face_landmarker_score = 1.0F;  // random weights: scores never exceed 1, so the detector's 5 points align
  o.face_swapper_model = "inswapper_128";
  o.face_enhancer_model = "gfpgan_1.4";
  o.face_detector_score = 0.0F;                              // random weights: accept whatever the detector says...
  o.face_selector_mode = facefleet::FaceSelectorMode::kOne;  // ...and swap one face
  std::vector<double> wall, model;
  for (int i = 0; i <= runs; ++i) {
    const std::int64_t before = facefleet::runtime::InferenceNanoseconds();
    facefleet::core::Stopwatch watch;
    auto report = (*engine)->SwapFiles(o);
    const double ms = watch.LapMs();
    if (!report.ok()) {
      std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
      throw std::runtime_error("benchmark step failed");
    }
    if (i == 0) continue;  // first run loads the models
    wall.push_back(ms);
    model.push_back(static_cast<double>(facefleet::runtime::InferenceNanoseconds() - before) / 1e6);
  }
  const double w = Median(wall), m = Median(model);
  std::printf("| neural image swap (1 face, %s) | %.0f | %.0f | %.0f | %.3f |\n", eps.front().c_str(), w, m, w - m,
              w / m);
}

int Run(int argc, char** argv) {
  std::string dir = (fs::temp_directory_path() / "facefleet-bench-models").string();
  int runs = 5;
  std::vector<std::string> eps = {"cpu"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--models-dir") dir = argv[i + 1];
    if (flag == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--execution-providers") eps = {argv[i + 1], "cpu"};
  }
  GenerateModels(dir);
  std::printf("## Neural models, random weights with the real contracts (%s)\n\n", eps.front().c_str());
  std::printf("| model | parameters | ms/run, 1 thread | ms/run, 2 threads | speed-up |\n|---|---:|---:|---:|---:|\n");
  for (const Target& t : kTargets) {
    const ModelInfo& info = *facefleet::models::FindModel(t.name);
    const auto params = facefleet::modelgen::CountParameters((fs::path(dir) / std::string(info.file)).string());
    const double one = TimeModel(info, dir, 1, runs, eps);
    const double two = TimeModel(info, dir, 2, runs, eps);
    std::printf("| %s | %.1f M | %.1f | %.1f | %.2fx |\n", t.name, params.ok() ? *params / 1e6 : 0.0, one, two,
                one / two);
  }
  std::printf("\n## Neural pipeline breakdown (median of %d runs)\n\n", runs);
  std::printf(
      "| work | wall ms | inside models ms | outside models ms | wall / model time |\n|---|---:|---:|---:|---:|\n");
  PipelineBreakdown(dir, runs, eps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
