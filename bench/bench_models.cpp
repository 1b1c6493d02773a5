// facefleet-bench-models: speed of the neural models and of the neural image pipeline, on random-weight
// graphs with the real contracts and roughly the real parameter counts (tests/model_gen). Reports:
//   1. ms/run per model with 1 and 2 intra-op threads (the execution provider is --execution-providers);
//   2. one neural image swap (scrfd_2.5g + 2dfan4 + arcface + inswapper_128 + gfpgan_1.4), its wall time
//      next to the time spent inside the models: the pipeline goal is wall <= 1.15 x model time.
// Usage: facefleet-bench-models [--models-dir DIR] [--runs N] [--execution-providers cpu|cuda|tensorrt]
//                               [--pipeline-only]   (skip 1.; with 2., a per-stage table)
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/stopwatch.hpp"
#include "facefleet/facefleet.hpp"
#include "media/image_io.hpp"
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

// A scrfd_2.5g file whose outputs are constant: exactly the face the classic analyser finds in the target
// photo, encoded as raw stride-32 anchor outputs. Random detector weights would report thousands of faces
// (and run the landmarker on each); this keeps the pipeline at one face, as on a real photo.
void WriteOneFaceDetector(const std::string& path, const std::string& target) {
  auto engine = facefleet::Engine::Create({});
  auto image = facefleet::media::ReadImage(target, 1 << 30);
  if (!engine.ok() || !image.ok()) throw std::runtime_error("cannot analyse " + target);
  facefleet::Image frame{image->cols, image->rows, 3, {image->datastart, image->dataend}};
  auto faces = (*engine)->Analyze(frame);
  if (!faces.ok() || faces->empty() || image->cols > 640 || image->rows > 640) throw std::runtime_error("no face");
  const facefleet::Face& face = faces->front();
  std::vector<facefleet::modelgen::ConstantOutput> out;
  for (const int width : {1, 4, 10}) {
    for (const int stride : {8, 16, 32}) {
      const std::int64_t n = (640 / stride) * (640 / stride) * 2;
      out.push_back({{n, width}, std::vector<float>(static_cast<std::size_t>(n * width), 0.0F)});
    }
  }
  const auto c = face.box.center();
  const int col = static_cast<int>(c.x / 32), row = static_cast<int>(c.y / 32);
  const auto i = static_cast<std::size_t>((row * 20 + col) * 2);
  const float ax = static_cast<float>(col * 32), ay = static_cast<float>(row * 32);
  out[2].data[i] = 0.9F;
  const std::array<float, 4> box = {(ax - face.box.x) / 32, (ay - face.box.y) / 32,
                                    (face.box.x + face.box.width - ax) / 32, (face.box.y + face.box.height - ay) / 32};
  for (std::size_t k = 0; k < 4; ++k) out[5].data[i * 4 + k] = box[k];
  for (std::size_t p = 0; p < 5; ++p) {
    out[8].data[i * 10 + p * 2] = (face.landmark5[p].x - ax) / 32;
    out[8].data[i * 10 + p * 2 + 1] = (face.landmark5[p].y - ay) / 32;
  }
  if (!facefleet::modelgen::WriteConstantOutputs(*facefleet::models::FindModel("scrfd_2.5g"), out, path).ok()) {
    throw std::runtime_error("cannot write " + path);
  }
}

// Median time per stage of the swaps above (each stage's time includes its model runs).
void PrintStages(const std::vector<facefleet::StageTimings>& stages) {
  using T = facefleet::StageTimings;
  const std::array<std::pair<const char*, double T::*>, 8> fields = {{{"decode", &T::decode_ms},
                                                                      {"detect", &T::detect_ms},
                                                                      {"landmark", &T::landmark_ms},
                                                                      {"embed", &T::embed_ms},
                                                                      {"align + swap", &T::warp_ms},
                                                                      {"paste back", &T::blend_ms},
                                                                      {"enhance", &T::enhance_ms},
                                                                      {"encode + write", &T::encode_ms}}};
  std::printf("\n| stage | ms (median) |\n|---|---:|\n");
  for (const auto& stage : fields) {
    const auto field = stage.second;
    std::vector<double> ms(stages.size());
    std::transform(stages.begin(), stages.end(), ms.begin(), [field](const T& t) { return t.*field; });
    std::printf("| %s | %.1f |\n", stage.first, Median(ms));
  }
}

void PipelineBreakdown(const std::string& dir, int runs, const std::vector<std::string>& eps) {
  const std::string pipeline_dir = (fs::path(dir) / "pipeline").string();
  fs::create_directories(pipeline_dir);
  for (const char* name : {"2dfan4", "arcface_w600k_r50", "inswapper_128", "gfpgan_1.4"}) {
    const std::string file(facefleet::models::FindModel(name)->file);
    if (!fs::exists(fs::path(pipeline_dir) / file))
      fs::create_symlink(fs::path(dir) / file, fs::path(pipeline_dir) / file);
  }
  WriteOneFaceDetector((fs::path(pipeline_dir) / "scrfd_2.5g.onnx").string(), FACEFLEET_SAMPLE_ASTRONAUT);
  facefleet::EngineOptions engine_options;
  engine_options.models_dir = pipeline_dir;
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
  o.face_selector_mode = facefleet::FaceSelectorMode::kOne;
  std::vector<double> wall, model;
  std::vector<facefleet::StageTimings> stages;
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
    stages.push_back(report->timings);
    model.push_back(static_cast<double>(facefleet::runtime::InferenceNanoseconds() - before) / 1e6);
  }
  const double w = Median(wall), m = Median(model);
  std::printf(
      "| neural image swap, 1 face (scrfd, 2dfan4, arcface, inswapper_128, gfpgan_1.4; %s) | %.0f | %.0f | %.0f | "
      "%.3f |\n",
      eps.front().c_str(), w, m, w - m, w / m);
  PrintStages(stages);
}

int Run(int argc, char** argv) {
  std::string dir = (fs::temp_directory_path() / "facefleet-bench-models").string();
  int runs = 5;
  std::vector<std::string> eps = {"cpu"};
  bool pipeline_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    if (flag == "--pipeline-only") pipeline_only = true;
    if (flag == "--models-dir") dir = value;
    if (flag == "--runs") runs = std::max(1, std::atoi(value));
    if (flag == "--execution-providers") eps = {value, "cpu"};
  }
  GenerateModels(dir);
  if (pipeline_only) {
    PipelineBreakdown(dir, runs, eps);
    return 0;
  }
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
