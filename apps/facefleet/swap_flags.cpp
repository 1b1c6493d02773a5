// The swap options as flags, declared once: `facefleet swap` parses them from the command line, and the job
// service parses a job's JSON options through the same table (JobSwapOptions), so both accept exactly the same
// names, defaults and ranges.
#include "swap_flags.hpp"

#include <cctype>
#include <cstdint>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/log.hpp"

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

void AddExecutionFlags(FlagSet& flags, const EngineOptions& e) {
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

void AddModelFlags(FlagSet& flags, const SwapOptions& d) {
  flags.Add({"--face-detector-model", "NAME",
             "classic (dlib HOG) or yoloface_8n|scrfd_2.5g|retinaface_10g|yunet_2023_mar", d.face_detector_model});
  flags.Add({"--face-detector-size", "SIZE", "neural detector input, e.g. 640 or 640x640",
             std::to_string(d.face_detector_size)});
  flags.Add({"--face-detector-score", "0-1", "minimum detection score", Num(d.face_detector_score)});
  flags.Add({"--face-landmarker-model", "NAME", "classic (dlib 68-point) or 2dfan4", d.face_landmarker_model});
  flags.Add({"--face-landmarker-score", "0-1", "2dfan4 points align the face above this score",
             Num(d.face_landmarker_score)});
  flags.Add({"--face-swapper-model", "NAME",
             "classic (zero-download), a model from 'facefleet models list', or none (no face processing)",
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

}  // namespace

FlagSet SwapFlags() {
  const SwapOptions d;
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
  AddModelFlags(flags, d);
  flags.Add({"--classic-blend", "MODE", "classic swapper blending: " + Joined(ClassicBlendNames()), "feather"});
  flags.Add({"--output-image-quality", "0-100", "JPEG/WebP quality", std::to_string(d.output_image_quality)});
  flags.Add({"--max-image-pixels", "N", "refuse inputs whose header declares more pixels",
             std::to_string(d.max_image_pixels)});
  AddVideoFlags(flags, d);
  AddEngineFlags(flags);
  flags.Add({"--quiet", "", "print nothing on success", ""});
  return flags;
}

namespace {

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
  swap.face_tracker_interval = static_cast<int>(c.Take(flags.GetInt("--face-tracker-interval", 1, 100)));
  swap.face_landmark_smoothing = flags.GetBool("--face-landmark-smoothing");
  const std::string progress = flags.Get("--progress");
  if (progress != "auto" && progress != "json" && progress != "none") {
    c.Take(Result<int>(ErrorCode::kUsage, "unknown --progress '" + progress + "' (valid: auto, json, none)"));
  }
}

// The per-job part of the options: everything a service client may set.
void ReadJobOptions(const FlagSet& flags, Checker& c, SwapOptions& swap) {
  swap.face_selector_mode = c.Take(ParseFaceSelectorMode(flags.Get("--face-selector-mode")));
  swap.face_selector_order = c.Take(ParseFaceSelectorOrder(flags.Get("--face-selector-order")));
  swap.reference_face_position = static_cast<int>(c.Take(flags.GetInt("--reference-face-position", 0, 1000)));
  swap.classic_blend = c.Take(ParseClassicBlend(flags.Get("--classic-blend")));
  swap.output_image_quality = static_cast<int>(c.Take(flags.GetInt("--output-image-quality", 0, 100)));
  ReadModelOptions(flags, c, swap);
  ReadVideoOptions(flags, c, swap);
}

void ReadEngine(const FlagSet& flags, Checker& c, EngineOptions& engine) {
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
}

// Flags a service client must not set: paths on the server, server-wide engine settings and CLI output.
bool IsServerOnlyFlag(const std::string& name) {
  static const std::set<std::string, std::less<>> kServerOnly = {"--source",
                                                                 "--target",
                                                                 "--output",
                                                                 "--models-dir",
                                                                 "--shape-predictor",
                                                                 "--classic-detector-size",
                                                                 "--max-image-pixels",
                                                                 "--log-level",
                                                                 "--quiet",
                                                                 "--progress",
                                                                 "--execution-providers",
                                                                 "--execution-device-id",
                                                                 "--execution-thread-count",
                                                                 "--execution-cudnn-conv-algo-search",
                                                                 "--execution-tensorrt-cache-dir",
                                                                 "--execution-tensorrt-fp16",
                                                                 "--max-video-frames",
                                                                 "--max-video-seconds"};
  return kServerOnly.contains(name);
}

// One JSON value as the flag text the CLI would take; kUsage naming `field` for objects and nulls.
Result<std::string> FlagText(const std::string& field, const nlohmann::json& value) {
  const auto scalar = [](const nlohmann::json& v) -> std::optional<std::string> {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    if (v.is_number()) return v.dump();
    return std::nullopt;
  };
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value) {
      const auto text = scalar(item);
      if (!text) return Status(ErrorCode::kUsage, "options." + field + ": list items must be strings or numbers");
      joined += (joined.empty() ? "" : ",") + *text;
    }
    return joined;
  }
  if (auto text = scalar(value)) return *text;
  return Status(ErrorCode::kUsage, "options." + field + ": expected a string, number, boolean or list");
}

// "--face-swapper-model" in a flag parser message -> "options.face_swapper_model".
std::string AsFieldMessage(std::string message) {
  for (std::size_t at = message.find("--"); at != std::string::npos; at = message.find("--", at)) {
    std::size_t end = at + 2;
    while (end < message.size() &&
           (std::isalnum(static_cast<unsigned char>(message[end])) != 0 || message[end] == '-')) {
      ++end;
    }
    std::string field = "options." + message.substr(at + 2, end - at - 2);
    for (char& ch : field) ch = ch == '-' ? '_' : ch;
    message.replace(at, end - at, field);
    at += field.size();
  }
  return message;
}

}  // namespace

void AddEngineFlags(FlagSet& flags) {
  const EngineOptions e;
  flags.Add({"--classic-detector-size", "PIXELS", "longer side of the copy the classic detector scans",
             std::to_string(e.classic_detector_size)});
  flags.Add({"--shape-predictor", "PATH", "dlib 68-point shape predictor file", e.shape_predictor_path});
  AddExecutionFlags(flags, e);
  flags.Add({"--log-level", "LEVEL", "error|warn|info|debug", "warn"});
}

Status ReadEngineOptions(const FlagSet& flags, EngineOptions& engine) {
  Checker c;
  ReadEngine(flags, c, engine);
  return c.status();
}

Status ReadOptions(const FlagSet& flags, SwapOptions& swap, EngineOptions& engine) {
  Checker c;
  swap.source_paths = flags.GetAll("--source");
  swap.target_path = flags.Get("--target");
  swap.output_path = flags.Get("--output");
  swap.max_image_pixels = c.Take(flags.GetInt("--max-image-pixels", 1, kMaxImagePixelsLimit));
  swap.max_video_frames = c.Take(flags.GetInt("--max-video-frames", 1, INT64_MAX), std::int64_t{1});
  swap.max_video_seconds = c.Take(flags.GetFloat("--max-video-seconds", 0.001, 1e9), 1.0);
  ReadJobOptions(flags, c, swap);
  ReadEngine(flags, c, engine);
  if (!c.status().ok()) return c.status();
  return ValidateSwapOptions(swap);
}

Result<SwapOptions> JobSwapOptions(const nlohmann::json& options) {
  if (!options.is_object()) return Status(ErrorCode::kUsage, "options: expected a JSON object");
  FlagSet flags = SwapFlags();
  std::vector<std::string> args;
  for (const auto& [field, value] : options.items()) {
    std::string name = "--" + field;
    for (char& ch : name) ch = ch == '_' ? '-' : ch;
    if (!flags.Has(name) || IsServerOnlyFlag(name) || field.find('-') != std::string::npos) {
      return Status(ErrorCode::kUsage, "options." + field + ": unknown option");
    }
    auto text = FlagText(field, value);
    if (!text.ok()) return text.status();
    args.push_back(name + "=" + *text);
  }
  // An empty environment: a job's options depend on its request only, never on the server's FACEFLEET_* vars.
  const EnvLookup no_env = [](const std::string&) { return std::optional<std::string>(); };
  if (Status parsed = flags.Parse(args, no_env); !parsed.ok())
    return Status(parsed.code(), AsFieldMessage(parsed.message()));
  SwapOptions swap;
  Checker c;
  ReadJobOptions(flags, c, swap);
  if (!c.status().ok()) return Status(c.status().code(), AsFieldMessage(c.status().message()));
  swap.source_paths = {"source"};  // placeholders: ValidateSwapOptions checks that paths are set
  swap.target_path = "target";
  swap.output_path = "output.png";
  if (Status valid = ValidateSwapOptions(swap); !valid.ok()) {
    return Status(valid.code(), AsFieldMessage(valid.message()));
  }
  swap.source_paths.clear();
  swap.target_path.clear();
  swap.output_path.clear();
  return swap;
}

bool IsVideoOutput(const std::string& path) {
  std::string ext =
      path.substr(std::min(path.size(), path.rfind('.') == std::string::npos ? path.size() : path.rfind('.')));
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".mp4" || ext == ".mov" || ext == ".mkv" || ext == ".webm";
}

}  // namespace facefleet::apps
