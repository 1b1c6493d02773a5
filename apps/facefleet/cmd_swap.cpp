// facefleet swap: the CLI face of Engine::SwapFiles. Flag names follow FaceFusion's where the feature is the
// same; list flags take comma-separated values or repeat ("--face-mask-types box,occlusion").
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>

#include "commands.hpp"
#include "common/flags.hpp"
#include "core/log.hpp"
#include "facefleet/facefleet.hpp"

namespace facefleet::apps {
namespace {

std::string Joined(std::span<const std::string_view> names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : "|") + std::string(name);
  return out;
}

std::string Csv(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string Num(float v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

void AddModelFlags(FlagSet& flags, const SwapOptions& d, const EngineOptions& e) {
  flags.Add({"--face-detector-model", "NAME",
             "classic (dlib HOG) or yoloface_8n|scrfd_2.5g|retinaface_10g|yunet_2023_mar", d.face_detector_model});
  flags.Add({"--face-detector-size", "SIZE", "neural detector input, e.g. 640 or 640x640",
             std::to_string(d.face_detector_size)});
  flags.Add({"--face-detector-score", "0-1", "minimum detection score", Num(d.face_detector_score)});
  flags.Add({"--face-landmarker-model", "NAME", "classic (dlib 68-point) or 2dfan4", d.face_landmarker_model});
  flags.Add({"--face-landmarker-score", "0-1", "2dfan4 points align the face above this score",
             Num(d.face_landmarker_score)});
  flags.Add({"--face-swapper-model", "NAME",
             "classic (zero-download), a model from 'facefleet models list', none (video: no face processing)",
             d.face_swapper_model});
  flags.Add({"--face-swapper-pixel-boost", "SIZE", "crop size run through the swapper in tiles: 128|256|512|1024",
             "model size"});
  flags.Add({"--face-swapper-weight", "0-1", "mix of source (0.5 = source only) and target identity",
             Num(d.face_swapper_weight)});
  flags.Add({"--face-enhancer-model", "NAME", "optional enhancer: gfpgan_1.4|codeformer", ""});
  flags.Add({"--face-enhancer-blend", "0-100", "how much of the enhanced face to keep",
             std::to_string(d.face_enhancer_blend)});
  flags.Add({"--face-enhancer-weight", "0-1", "codeformer fidelity", Num(d.face_enhancer_weight)});
  flags.Add({"--face-mask-types", "LIST", "box|occlusion|area|region, combined by minimum", Csv(d.face_mask_types)});
  flags.Add({"--face-mask-blur", "0-1", "box mask blur", Num(d.face_mask_blur)});
  flags.Add({"--face-mask-padding", "T,R,B,L", "box mask padding in percent", "0,0,0,0"});
  flags.Add({"--face-mask-areas", "LIST", "upper-face|lower-face|mouth", Csv(d.face_mask_areas)});
  flags.Add({"--face-mask-regions", "LIST", "bisenet regions (skin, nose, mouth, ...)", Csv(d.face_mask_regions)});
  flags.Add({"--face-occluder-model", "NAME", "occlusion mask model", d.face_occluder_model});
  flags.Add({"--face-parser-model", "NAME", "region mask model", d.face_parser_model});
  flags.Add({"--reference-face-distance", "0-1", "reference mode (neural): swap faces closer than this",
             Num(d.reference_face_distance)});
  flags.Add(
      {"--models-dir", "DIR", "where model files live", "$FACEFLEET_MODELS_DIR or ~/.local/share/facefleet/models"});
  flags.Add({"--execution-providers", "LIST", "ONNX Runtime providers in preference order: tensorrt,cuda,cpu",
             Csv(e.execution_providers)});
  flags.Add({"--execution-device-id", "N", "GPU index", std::to_string(e.execution_device_id)});
  flags.Add({"--execution-thread-count", "N", "ONNX Runtime intra-op threads (0 = automatic)",
             std::to_string(e.execution_thread_count)});
  flags.Add({"--execution-cudnn-conv-algo-search", "MODE", "CUDA: EXHAUSTIVE|HEURISTIC|DEFAULT",
             e.execution_cudnn_conv_algo_search});
  flags.Add({"--execution-tensorrt-cache-dir", "DIR", "TensorRT engine and timing cache directory", ""});
  flags.Add({"--execution-tensorrt-fp16", "BOOL", "TensorRT: allow fp16 kernels (true|false)", "true"});
}

void AddVideoFlags(FlagSet& flags, const SwapOptions& d) {
  flags.Add({"--output-video-encoder", "NAME", "video targets: libx264|libx265|libvpx-vp9 (auto: libvpx-vp9 for .webm)",
             "auto"});
  flags.Add(
      {"--output-video-quality", "0-100", "video quality, mapped to CRF", std::to_string(d.output_video_quality)});
  flags.Add({"--output-video-preset", "NAME", "encoder speed: ultrafast ... veryslow", d.output_video_preset});
  flags.Add({"--output-video-fps", "FPS", "output frame rate (0 = the source's)", "0"});
  flags.Add({"--trim-frame-start", "N", "first frame to swap (-1 = the first)", "-1"});
  flags.Add({"--trim-frame-end", "N", "one past the last frame to swap (-1 = to the end)", "-1"});
  flags.Add(
      {"--output-audio-encoder", "NAME", "aac|libopus|libvorbis|flac (auto: copy the audio when possible)", "auto"});
  flags.Add({"--output-audio-quality", "0-100", "audio bit rate when re-encoding (64-256 kbit/s)",
             std::to_string(d.output_audio_quality)});
  flags.Add({"--output-audio-volume", "0-100", "audio volume in percent", std::to_string(d.output_audio_volume)});
  flags.Add({"--max-video-frames", "N", "refuse videos with more frames to swap", std::to_string(d.max_video_frames)});
  flags.Add({"--max-video-seconds", "S", "refuse videos longer than this to swap",
             Num(static_cast<float>(d.max_video_seconds))});
  flags.Add({"--face-tracker-interval", "N",
             "video: run the detector every N frames, interpolate tracked faces between (1 = every frame)",
             std::to_string(d.face_tracker_interval)});
  flags.Add({"--face-landmark-smoothing", "BOOL", "video, classic swapper: One-Euro filter on landmarks (true|false)",
             d.face_landmark_smoothing ? "true" : "false"});
  flags.Add({"--progress", "MODE", "video progress on stderr: auto (a bar on a terminal)|json (a line a second)|none",
             "auto"});
}

FlagSet SwapFlags() {
  const SwapOptions d;
  const EngineOptions e;
  FlagSet flags("swap",
                "Swap the face from one or more source photos into a target photo (jpg, png, webp, bmp) or video "
                "(any container FFmpeg reads; output .mp4 .mov .mkv .webm).");
  flags.Add({"--source", "PATH", "source image; the largest face of each is used, several are averaged", "", true});
  flags.Add({"--target", "PATH", "target image or video whose face(s) are replaced", ""});
  flags.Add(
      {"--output", "PATH", "output image (.jpg .jpeg .png .webp .bmp) or video (.mp4 .mov .mkv .webm), atomic", ""});
  flags.Add(
      {"--face-selector-mode", "MODE", "which target faces to swap: " + Joined(FaceSelectorModeNames()), "reference"});
  flags.Add(
      {"--face-selector-order", "ORDER", "order of target faces: " + Joined(FaceSelectorOrderNames()), "large-small"});
  flags.Add({"--reference-face-position", "N", "reference mode: index of the target face in that order",
             std::to_string(d.reference_face_position)});
  AddModelFlags(flags, d, e);
  flags.Add({"--classic-blend", "MODE", "classic swapper blending: " + Joined(ClassicBlendNames()), "feather"});
  flags.Add({"--classic-detector-size", "PIXELS", "longer side of the copy the classic detector scans",
             std::to_string(e.classic_detector_size)});
  flags.Add({"--shape-predictor", "PATH", "dlib 68-point shape predictor file", e.shape_predictor_path});
  flags.Add({"--output-image-quality", "0-100", "JPEG/WebP quality", std::to_string(d.output_image_quality)});
  flags.Add({"--max-image-pixels", "N", "refuse inputs whose header declares more pixels",
             std::to_string(d.max_image_pixels)});
  AddVideoFlags(flags, d);
  flags.Add({"--log-level", "LEVEL", "error|warn|info|debug", "warn"});
  flags.Add({"--quiet", "", "print nothing on success", ""});
  return flags;
}

// "640" or "640x640" (FaceFusion's form; both sides must agree since the models are square).
Result<int> ParseSquare(const FlagSet& flags, const std::string& name, int min, int max) {
  std::string text = flags.Get(name);
  if (const auto x = text.find('x'); x != std::string::npos) {
    if (text.substr(0, x) != text.substr(x + 1))
      return Status(ErrorCode::kUsage, name + " must be square, got " + text);
    text.resize(x);
  }
  auto value = ParseInt(name, text, min, max);
  if (!value.ok()) return value.status();
  return static_cast<int>(*value);
}

// Collects the first error of several parse results.
class Checker {
 public:
  template <typename T>
  T Take(Result<T> result, T fallback = T{}) {
    if (!result.ok()) {
      if (status_.ok()) status_ = result.status();
      return fallback;
    }
    return *result;
  }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

void ReadModelOptions(const FlagSet& flags, Checker& c, SwapOptions& swap) {
  swap.face_detector_model = flags.Get("--face-detector-model");
  swap.face_detector_size = c.Take(ParseSquare(flags, "--face-detector-size", 160, 640));
  swap.face_detector_score = static_cast<float>(c.Take(flags.GetFloat("--face-detector-score", 0, 1)));
  swap.face_landmarker_model = flags.Get("--face-landmarker-model");
  swap.face_landmarker_score = static_cast<float>(c.Take(flags.GetFloat("--face-landmarker-score", 0, 1)));
  swap.face_swapper_model = flags.Get("--face-swapper-model");
  if (flags.Get("--face-swapper-pixel-boost") != "model size") {
    swap.face_swapper_pixel_boost = c.Take(ParseSquare(flags, "--face-swapper-pixel-boost", 128, 1024));
  }
  swap.face_swapper_weight = static_cast<float>(c.Take(flags.GetFloat("--face-swapper-weight", 0, 1)));
  swap.face_enhancer_model = flags.Get("--face-enhancer-model");
  swap.face_enhancer_blend = static_cast<int>(c.Take(flags.GetInt("--face-enhancer-blend", 0, 100)));
  swap.face_enhancer_weight = static_cast<float>(c.Take(flags.GetFloat("--face-enhancer-weight", 0, 1)));
  swap.face_mask_types = flags.GetList("--face-mask-types");
  swap.face_mask_blur = static_cast<float>(c.Take(flags.GetFloat("--face-mask-blur", 0, 1)));
  const auto padding = flags.GetList("--face-mask-padding");
  if (padding.size() != 4)
    c.Take(Result<int>(ErrorCode::kUsage, "--face-mask-padding needs 4 values: top,right,bottom,left"));
  for (std::size_t i = 0; i < padding.size() && i < 4; ++i) {
    swap.face_mask_padding[i] = static_cast<int>(c.Take(ParseInt("--face-mask-padding", padding[i], 0, 100)));
  }
  swap.face_mask_areas = flags.GetList("--face-mask-areas");
  swap.face_mask_regions = flags.GetList("--face-mask-regions");
  swap.face_occluder_model = flags.Get("--face-occluder-model");
  swap.face_parser_model = flags.Get("--face-parser-model");
  swap.reference_face_distance = static_cast<float>(c.Take(flags.GetFloat("--reference-face-distance", 0, 1)));
}

void ReadVideoOptions(const FlagSet& flags, Checker& c, SwapOptions& swap) {
  const auto automatic = [&](const std::string& name) { return flags.Get(name) == "auto" ? "" : flags.Get(name); };
  swap.output_video_encoder = automatic("--output-video-encoder");
  swap.output_video_quality = static_cast<int>(c.Take(flags.GetInt("--output-video-quality", 0, 100)));
  swap.output_video_preset = flags.Get("--output-video-preset");
  swap.output_video_fps = c.Take(flags.GetFloat("--output-video-fps", 0, 240));
  swap.trim_frame_start = c.Take(flags.GetInt("--trim-frame-start", -1, INT64_MAX), std::int64_t{-1});
  swap.trim_frame_end = c.Take(flags.GetInt("--trim-frame-end", -1, INT64_MAX), std::int64_t{-1});
  swap.output_audio_encoder = automatic("--output-audio-encoder");
  swap.output_audio_quality = static_cast<int>(c.Take(flags.GetInt("--output-audio-quality", 0, 100)));
  swap.output_audio_volume = static_cast<int>(c.Take(flags.GetInt("--output-audio-volume", 0, 100)));
  swap.max_video_frames = c.Take(flags.GetInt("--max-video-frames", 1, INT64_MAX), std::int64_t{1});
  swap.face_tracker_interval = static_cast<int>(c.Take(flags.GetInt("--face-tracker-interval", 1, 100)));
  swap.face_landmark_smoothing = flags.GetBool("--face-landmark-smoothing");
  swap.max_video_seconds = c.Take(flags.GetFloat("--max-video-seconds", 0.001, 1e9), 1.0);
  const std::string progress = flags.Get("--progress");
  if (progress != "auto" && progress != "json" && progress != "none") {
    c.Take(Result<int>(ErrorCode::kUsage, "unknown --progress '" + progress + "' (valid: auto, json, none)"));
  }
}

// Video progress on stderr: a bar redrawn in place (terminals), or one JSON object per line at most once a
// second plus a final one. Called from the engine's writer thread only, so it needs no lock.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(const std::string& mode)
      : json_(mode == "json"), bar_(mode == "auto" && ::isatty(STDERR_FILENO) == 1) {}
  bool enabled() const { return json_ || bar_; }

  void Update(const Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < (json_ ? std::chrono::seconds(1) : std::chrono::milliseconds(100))) return;
    last_ = now;
    Print(p);
  }
  void Done(const Progress& p) {
    Print(p);
    if (bar_) std::fputc('\n', stderr);
  }

 private:
  void Print(const Progress& p) const {
    if (json_) {
      std::fprintf(stderr, "{\"frames_done\":%lld,\"frames_total\":%lld,\"fps\":%.2f,\"elapsed_s\":%.2f}\n",
                   static_cast<long long>(p.frames_done), static_cast<long long>(p.frames_total), p.fps, p.elapsed_s);
    } else if (bar_) {
      const int width = 30;
      const int filled = p.frames_total > 0 ? static_cast<int>(width * p.frames_done / p.frames_total) : 0;
      std::fprintf(stderr, "\r[%s%s] %lld/%lld frames %.1f fps", std::string(filled, '#').c_str(),
                   std::string(width - filled, ' ').c_str(), static_cast<long long>(p.frames_done),
                   static_cast<long long>(p.frames_total), p.fps);
    }
    std::fflush(stderr);
  }

  bool json_;
  bool bar_;
  std::chrono::steady_clock::time_point last_{};
};

// Fills the option structs from parsed flags; kUsage naming the flag on a bad value.
Status ReadOptions(const FlagSet& flags, SwapOptions& swap, EngineOptions& engine) {
  Checker c;
  swap.source_paths = flags.GetAll("--source");
  swap.target_path = flags.Get("--target");
  swap.output_path = flags.Get("--output");
  swap.face_selector_mode = c.Take(ParseFaceSelectorMode(flags.Get("--face-selector-mode")));
  swap.face_selector_order = c.Take(ParseFaceSelectorOrder(flags.Get("--face-selector-order")));
  swap.reference_face_position = static_cast<int>(c.Take(flags.GetInt("--reference-face-position", 0, 1000)));
  swap.classic_blend = c.Take(ParseClassicBlend(flags.Get("--classic-blend")));
  swap.output_image_quality = static_cast<int>(c.Take(flags.GetInt("--output-image-quality", 0, 100)));
  swap.max_image_pixels = c.Take(flags.GetInt("--max-image-pixels", 1, kMaxImagePixelsLimit));
  ReadModelOptions(flags, c, swap);
  ReadVideoOptions(flags, c, swap);
  engine.classic_detector_size = static_cast<int>(c.Take(flags.GetInt("--classic-detector-size", 80, 8192)));
  engine.shape_predictor_path = flags.Get("--shape-predictor");
  if (const std::string dir = flags.Get("--models-dir"); dir.rfind("$FACEFLEET", 0) != 0) engine.models_dir = dir;
  engine.execution_providers = flags.GetList("--execution-providers");
  engine.execution_device_id = static_cast<int>(c.Take(flags.GetInt("--execution-device-id", 0, 64)));
  engine.execution_thread_count = static_cast<int>(c.Take(flags.GetInt("--execution-thread-count", 0, 256)));
  engine.execution_cudnn_conv_algo_search = flags.Get("--execution-cudnn-conv-algo-search");
  engine.execution_tensorrt_cache_dir = flags.Get("--execution-tensorrt-cache-dir");
  engine.execution_tensorrt_fp16 = flags.GetBool("--execution-tensorrt-fp16");
  core::SetLogLevel(c.Take(core::ParseLogLevel(flags.Get("--log-level")), core::LogLevel::kWarn));
  if (!c.status().ok()) return c.status();
  return ValidateSwapOptions(swap);
}

bool IsVideoOutput(const std::string& path) {
  std::string ext =
      path.substr(std::min(path.size(), path.rfind('.') == std::string::npos ? path.size() : path.rfind('.')));
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".mp4" || ext == ".mov" || ext == ".mkv" || ext == ".webm";
}

}  // namespace

int ReportError(const std::string& command, const Status& status) {
  std::fprintf(stderr, "facefleet%s%s: error: %s\n", command.empty() ? "" : " ", command.c_str(),
               status.ToString().c_str());
  return error_info(status.code()).exit_code;
}

int RunSwap(const std::vector<std::string>& args) {
  FlagSet flags = SwapFlags();
  if (Status parsed = flags.Parse(args); !parsed.ok()) return ReportError("swap", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  SwapOptions options;
  EngineOptions engine_options;
  if (Status read = ReadOptions(flags, options, engine_options); !read.ok()) return ReportError("swap", read);
  if (Status checked = Engine::CheckSwapFiles(options); !checked.ok()) return ReportError("swap", checked);
  auto engine = Engine::Create(engine_options);
  if (!engine.ok()) return ReportError("swap", engine.status());
  ProgressPrinter printer(flags.Get("--progress"));
  Progress last;
  const auto on_progress = [&](const Progress& p) {
    last = p;
    printer.Update(p);
  };
  // A video target goes to SwapVideo directly so progress can be shown; SwapFiles checks the target's kind.
  auto report = IsVideoOutput(options.output_path)
                    ? (*engine)->SwapVideo(
                          options, {}, printer.enabled() ? std::function<void(const Progress&)>(on_progress) : nullptr)
                    : (*engine)->SwapFiles(options);
  if (printer.enabled() && last.frames_done > 0) printer.Done(last);
  if (!report.ok()) return ReportError("swap", report.status());
  if (!flags.GetBool("--quiet")) {
    std::printf("%s\n", options.output_path.c_str());
    if (report->video_frames > 0) {
      std::fprintf(stderr, "facefleet swap: %lld frames, %d face(s) swapped\n",
                   static_cast<long long>(report->video_frames), report->swapped_faces);
    } else {
      std::fprintf(stderr, "facefleet swap: %d of %d face(s) swapped\n", report->swapped_faces, report->target_faces);
    }
  }
  return 0;
}

}  // namespace facefleet::apps
