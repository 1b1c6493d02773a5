// Engine: wires face analysis, selection, the classic and neural swappers and the enhancer to image I/O.
#include "facefleet/engine.hpp"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <tuple>

#include <opencv2/imgproc.hpp>

#include "core/stopwatch.hpp"
#include "media/image_io.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "models/model_store.hpp"
#include "models/onnx_models.hpp"
#include "pipeline/engine_impl.hpp"
#include "pipeline/face_selector.hpp"

namespace facefleet {
namespace {

// Copies the alpha channel of `original` (if any) onto the swapped BGR frame.
cv::Mat RestoreAlpha(const cv::Mat& original, const cv::Mat& frame) {
  if (original.channels() != 4) return frame;
  cv::Mat bgra;
  cv::cvtColor(frame, bgra, cv::COLOR_BGR2BGRA);
  cv::mixChannels(std::vector<cv::Mat>{original}, std::vector<cv::Mat>{bgra}, std::vector<int>{3, 3});
  return bgra;
}

Result<const models::ModelInfo*> Lookup(const std::string& name, models::ModelKind kind, std::string_view flag) {
  const models::ModelInfo* info = models::FindModel(name);
  if (info == nullptr || info->kind != kind) {
    return Status(ErrorCode::kUsage, "unknown " + std::string(flag) + " '" + name +
                                         "' (valid: " + (kind == models::ModelKind::kEnhancer ? "" : "classic, ") +
                                         models::ModelNames(kind) + ")");
  }
  return info;
}

// The model `name` of `kind` from the cache (loaded with `create` on first use); `keep` shares ownership.
template <typename T, typename Create>
Result<const T*> CachedModel(pipeline::ModelCache& cache, const std::string& name, models::ModelKind kind,
                             std::string_view flag, const Create& create,
                             std::vector<std::shared_ptr<const void>>& keep) {
  auto info = Lookup(name, kind, flag);
  if (!info.ok()) return info.status();
  auto model = cache.Get<T>(name, [&] { return create(**info); });
  if (!model.ok()) return model.status();
  keep.push_back(*model);
  return model->get();
}

// Every model name in `o` exists in the registry with the right kind (checked before any file is read).
Status CheckModelNames(const SwapOptions& o) {
  using models::ModelKind;
  const std::array<std::tuple<const std::string*, ModelKind, std::string_view>, 5> named = {{
      {&o.face_detector_model, ModelKind::kDetector, "face detector model"},
      {&o.face_swapper_model, ModelKind::kSwapper, "face swapper model"},
      {&o.face_enhancer_model, ModelKind::kEnhancer, "face enhancer model"},
      {&o.face_occluder_model, ModelKind::kOccluder, "face occluder model"},
      {&o.face_parser_model, ModelKind::kParser, "face parser model"},
  }};
  for (const auto& [name, kind, flag] : named) {
    if (name->empty() || *name == "classic" || (kind == ModelKind::kSwapper && *name == "none")) continue;
    if (auto found = Lookup(*name, kind, flag); !found.ok()) return found.status();
  }
  if (o.face_landmarker_model != "classic" && o.face_landmarker_model != "2dfan4") {
    return {ErrorCode::kUsage,
            "unknown face landmarker model '" + o.face_landmarker_model + "' (valid: classic, 2dfan4)"};
  }
  if (auto regions = pipeline::RegionClasses(o.face_mask_regions); !regions.ok()) return regions.status();
  return Status::Ok();
}

}  // namespace

namespace pipeline {
namespace {
enum class TargetKind : std::uint8_t { kImage, kVideo, kOther };

// What the target is by content: an image our decoders take, a video container, or neither.
Result<TargetKind> SniffTarget(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> head(64 * 1024);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  auto image = media::ProbeImage(head);
  if (image.ok() || image.status().code() == ErrorCode::kInputUnreadable) return TargetKind::kImage;
  return media::LooksLikeVideo(path) ? TargetKind::kVideo : TargetKind::kOther;
}

}  // namespace

Status CheckTargetKind(const SwapOptions& options) {
  auto kind = SniffTarget(options.target_path);
  if (!kind.ok()) return kind.status();
  const bool video_out = media::IsVideoExtension(options.output_path);
  if (*kind == TargetKind::kVideo && !video_out) {
    return {ErrorCode::kUsage, options.target_path + ": is a video; " + options.output_path +
                                   ": unsupported output extension for a video (valid: .mp4 .mov .mkv .webm)"};
  }
  if (*kind == TargetKind::kImage && video_out) {
    return {ErrorCode::kUsage, options.target_path + ": is an image; " + options.output_path +
                                   ": unsupported output extension for an image (valid: .jpg .jpeg .png .webp .bmp)"};
  }
  return Status::Ok();
}

}  // namespace pipeline

Result<pipeline::FaceAnalyser> Engine::Impl::Analyser(const SwapOptions& o) const {
  std::shared_ptr<const models::FaceDetector> detector = classic_detector;
  if (o.face_detector_model != "classic") {
    auto info = Lookup(o.face_detector_model, models::ModelKind::kDetector, "face detector model");
    if (!info.ok()) return info.status();
    const models::DetectorOptions d{o.face_detector_size, o.face_detector_score, 0.4F};
    const std::string key =
        o.face_detector_model + "@" + std::to_string(d.size) + "/" + std::to_string(d.score_threshold);
    auto loaded = cache.Get<models::FaceDetector>(key, [&] { return models::CreateOnnxDetector(**info, load, d); });
    if (!loaded.ok()) return loaded.status();
    detector = *loaded;
  }
  std::shared_ptr<const models::FaceLandmarker68> landmarker;
  if (o.face_landmarker_model == "classic") {
    auto loaded = ClassicLandmarker(*detector);
    if (!loaded.ok()) return loaded.status();
    landmarker = *loaded;
  } else {
    if (o.face_landmarker_model != "2dfan4") {
      return Status(ErrorCode::kUsage,
                    "unknown face landmarker model '" + o.face_landmarker_model + "' (valid: classic, 2dfan4)");
    }
    auto loaded = cache.Get<models::FaceLandmarker68>(
        "2dfan4", [&] { return models::CreateFan2dfan4(*models::FindModel("2dfan4"), load); });
    if (!loaded.ok()) return loaded.status();
    landmarker = *loaded;
  }
  return pipeline::FaceAnalyser(detector, landmarker, o.face_landmarker_score);
}

Result<std::shared_ptr<const models::FaceLandmarker68>> Engine::Impl::ClassicLandmarker(
    const models::FaceDetector& detector) const {
  return cache.Get<models::FaceLandmarker68>("dlib_shape_predictor_68", [&] {
    auto warming = std::async(std::launch::async, [&detector] { detector.Warm(); });
    auto loaded = models::CreateDlibShapePredictor(engine_options.shape_predictor_path);
    warming.get();
    return loaded;
  });
}

Result<std::shared_ptr<const models::FaceRecognizer>> Engine::Impl::Recognizer() const {
  return cache.Get<models::FaceRecognizer>(
      "arcface_w600k_r50", [&] { return models::CreateArcface(*models::FindModel("arcface_w600k_r50"), load); });
}

Result<pipeline::NeuralModels> Engine::Impl::Neural(const SwapOptions& o,
                                                    std::vector<std::shared_ptr<const void>>& keep) const {
  using models::ModelInfo;
  using models::ModelKind;
  pipeline::NeuralModels m;
  const auto uses = [&](std::string_view t) {
    return std::find(o.face_mask_types.begin(), o.face_mask_types.end(), t) != o.face_mask_types.end();
  };
  const auto load_with = [this](auto create) { return [this, create](const ModelInfo& i) { return create(i, load); }; };
  if (o.face_swapper_model != "classic") {
    auto swapper = CachedModel<models::FaceSwapperModel>(cache, o.face_swapper_model, ModelKind::kSwapper,
                                                         "face swapper model", load_with(models::CreateSwapper), keep);
    if (!swapper.ok()) return swapper.status();
    m.swapper = *swapper;
  }
  if (!o.face_enhancer_model.empty()) {
    auto enhancer =
        CachedModel<models::FaceEnhancerModel>(cache, o.face_enhancer_model, ModelKind::kEnhancer,
                                               "face enhancer model", load_with(models::CreateEnhancer), keep);
    if (!enhancer.ok()) return enhancer.status();
    m.enhancer = *enhancer;
  }
  if (uses("occlusion")) {
    auto occluder = CachedModel<models::FaceOccluderModel>(cache, o.face_occluder_model, ModelKind::kOccluder,
                                                           "face occluder model", load_with(models::CreateXseg), keep);
    if (!occluder.ok()) return occluder.status();
    m.occluder = *occluder;
  }
  if (uses("region")) {
    auto parser = CachedModel<models::FaceParserModel>(cache, o.face_parser_model, ModelKind::kParser,
                                                       "face parser model", load_with(models::CreateBisenet), keep);
    if (!parser.ok()) return parser.status();
    m.parser = *parser;
  }
  return m;
}

Result<cv::Mat> Engine::Impl::SwapMats(std::span<const cv::Mat> sources, std::span<const std::string> source_names,
                                       const TargetLoader& load_target, const std::string& target_name,
                                       const SwapOptions& options, SwapReport& report) const {
  // "none": no face processing, only decode -> encode (the I/O floor in benchmarks; a no-op job in the service).
  if (options.face_swapper_model == "none") {
    auto target = load_target();
    if (!target.ok()) return target.status();
    return target->clone();
  }
  auto swapper = Prepare(sources, source_names, options, &report.timings);
  auto target = load_target();
  if (!target.ok()) return target.status();
  if (!swapper.ok()) return swapper.status();
  cv::Mat frame = pipeline::ToBgr(*target).clone();
  auto faces = (*swapper)->Detect(frame, &report.timings);
  if (!faces.ok()) return faces.status();
  report.target_faces = static_cast<int>(faces->size());
  if (faces->empty()) return Status(ErrorCode::kNoFace, target_name + ": no face found in target");
  auto swapped = (*swapper)->SwapFaces(frame, std::move(*faces), &report.timings);
  if (!swapped.ok()) {
    const Status& s = swapped.status();
    return Status(s.code(), s.code() == ErrorCode::kUsage ? target_name + ": " + s.message() : s.message());
  }
  report.swapped_faces = *swapped;
  return RestoreAlpha(*target, frame);
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  runtime::RuntimeOptions runtime;
  runtime.execution_providers = options.execution_providers;
  runtime.device_id = options.execution_device_id;
  runtime.thread_count = options.execution_thread_count;
  runtime.cudnn_conv_algo_search = options.execution_cudnn_conv_algo_search;
  runtime.tensorrt_cache_dir = options.execution_tensorrt_cache_dir;
  runtime.tensorrt_fp16 = options.execution_tensorrt_fp16;
  if (const auto& s = runtime.cudnn_conv_algo_search; s != "EXHAUSTIVE" && s != "HEURISTIC" && s != "DEFAULT") {
    return Status(ErrorCode::kUsage,
                  "unknown cuDNN conv algo search '" + s + "' (valid: EXHAUSTIVE, HEURISTIC, DEFAULT)");
  }
  if (Status valid = runtime::ValidateProviders(runtime.execution_providers); !valid.ok()) return valid;
  if (Status found = models::CheckDlibShapePredictorPath(options.shape_predictor_path); !found.ok()) return found;
  auto impl = std::make_unique<Impl>();
  impl->engine_options = options;
  impl->load = {options.models_dir.empty() ? models::DefaultModelsDir() : options.models_dir, runtime};
  impl->classic_detector = models::CreateDlibHogDetector(options.classic_detector_size);
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<std::vector<Face>> Engine::Analyze(const Image& image) const {
  if (image.empty()) return Status(ErrorCode::kInputUnreadable, "empty image");
  auto landmarker = impl_->ClassicLandmarker(*impl_->classic_detector);
  if (!landmarker.ok()) return landmarker.status();
  return pipeline::FaceAnalyser(impl_->classic_detector, *landmarker).Analyze(pipeline::ToBgr(media::AsMat(image)));
}

Result<Image> Engine::Swap(std::span<const Image> sources, const Image& target, const SwapOptions& options,
                           SwapReport* report) const {
  if (sources.empty()) return Status(ErrorCode::kUsage, "at least one source image is required");
  std::vector<cv::Mat> source_mats;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].empty())
      return Status(ErrorCode::kInputUnreadable, "source #" + std::to_string(i + 1) + " is empty");
    source_mats.push_back(media::AsMat(sources[i]));
    names.push_back("source #" + std::to_string(i + 1));
  }
  if (target.empty()) return Status(ErrorCode::kInputUnreadable, "target is empty");
  SwapReport local;
  const Impl::TargetLoader load_target = [&target]() -> Result<cv::Mat> { return media::AsMat(target); };
  auto out = impl_->SwapMats(source_mats, names, load_target, "target", options, local);
  if (report != nullptr) *report = local;
  if (!out.ok()) return out.status();
  return media::ToImage(*out);
}

Status Engine::CheckSwapFiles(const SwapOptions& options) {
  if (Status valid = ValidateSwapOptions(options); !valid.ok()) return valid;
  if (Status names = CheckModelNames(options); !names.ok()) return names;
  for (const std::string& path : options.source_paths) {
    if (Status readable = media::CheckInputPath(path); !readable.ok()) return readable;
  }
  if (Status readable = media::CheckInputPath(options.target_path); !readable.ok()) return readable;
  if (media::IsVideoExtension(options.output_path)) return media::CheckOutputLocation(options.output_path);
  return media::CheckOutputPath(options.output_path);
}

Result<SwapReport> Engine::SwapFiles(const SwapOptions& options) const {
  if (Status checked = CheckSwapFiles(options); !checked.ok()) return checked;
  if (Status kind = pipeline::CheckTargetKind(options); !kind.ok()) return kind;
  if (media::IsVideoExtension(options.output_path)) return SwapVideo(options);  // the reader names any problem
  const auto format = media::FormatFromExtension(options.output_path);
  SwapReport report;
  core::Stopwatch watch;
  // The target decodes on its own thread while the sources decode and their faces are analysed.
  auto decoding = std::async(std::launch::async,
                             [&options] { return media::ReadImage(options.target_path, options.max_image_pixels); });
  std::vector<cv::Mat> sources;
  for (const std::string& path : options.source_paths) {
    auto image = media::ReadImage(path, options.max_image_pixels);
    if (!image.ok()) return image.status();
    sources.push_back(std::move(*image));
  }
  report.timings.decode_ms = watch.LapMs();
  const Impl::TargetLoader load_target = [&decoding, &report, &watch]() {
    watch.LapMs();
    auto target = decoding.get();
    report.timings.decode_ms += watch.LapMs();  // only the part of the target's decode not hidden by the analysis
    return target;
  };
  auto swapped = impl_->SwapMats(sources, options.source_paths, load_target, options.target_path, options, report);
  if (!swapped.ok()) return swapped.status();
  watch.LapMs();
  auto bytes = media::EncodeImage(*swapped, *format, options.output_image_quality);
  if (!bytes.ok()) return bytes.status();
  if (Status written = media::WriteFileAtomic(options.output_path, *bytes); !written.ok()) return written;
  report.timings.encode_ms = watch.LapMs();
  return report;
}

}  // namespace facefleet
