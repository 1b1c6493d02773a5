// Name tables and validation for the public option structs.
#include "facefleet/options.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace facefleet {
namespace {

constexpr std::array<std::string_view, 3> kSelectorModeNames = {"one", "many", "reference"};
constexpr std::array<std::string_view, 8> kSelectorOrderNames = {
    "left-right", "right-left", "top-bottom", "bottom-top", "small-large", "large-small", "best-worst", "worst-best"};
constexpr std::array<std::string_view, 2> kClassicBlendNames = {"feather", "poisson"};
constexpr std::array<std::string_view, 9> kVideoPresetNames = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                                               "medium",    "slow",      "slower",   "veryslow"};
constexpr std::array<std::string_view, 4> kVideoEncoderNames = {"", "libx264", "libx265", "libvpx-vp9"};

std::string JoinNames(std::span<const std::string_view> names);

Status CheckPercent(int value, std::string_view flag) {
  if (value >= 0 && value <= 100) return Status::Ok();
  return {ErrorCode::kUsage, std::string(flag) + " must be within 0-100, got " + std::to_string(value)};
}

// The video fields of SwapOptions (ranges and names only; the encoders' availability is checked on open).
Status ValidateVideoOptions(const SwapOptions& o) {
  if (std::find(kVideoEncoderNames.begin(), kVideoEncoderNames.end(), o.output_video_encoder) ==
      kVideoEncoderNames.end()) {
    return {ErrorCode::kUsage,
            "unknown --output-video-encoder '" + o.output_video_encoder + "' (valid: libx264, libx265, libvpx-vp9)"};
  }
  if (std::find(kVideoPresetNames.begin(), kVideoPresetNames.end(), o.output_video_preset) == kVideoPresetNames.end()) {
    return {ErrorCode::kUsage, "unknown --output-video-preset '" + o.output_video_preset +
                                   "' (valid: " + JoinNames(kVideoPresetNames) + ")"};
  }
  for (const auto& [value, flag] : {std::pair{o.output_video_quality, "--output-video-quality"},
                                    std::pair{o.output_audio_quality, "--output-audio-quality"},
                                    std::pair{o.output_audio_volume, "--output-audio-volume"}}) {
    if (Status s = CheckPercent(value, flag); !s.ok()) return s;
  }
  if (o.output_video_fps != 0 && (o.output_video_fps < 1 || o.output_video_fps > 240)) {
    return {ErrorCode::kUsage, "--output-video-fps must be 0 (source rate) or within 1-240"};
  }
  if (o.trim_frame_start < -1 || o.trim_frame_end < -1) return {ErrorCode::kUsage, "trim frames must be >= 0"};
  if (o.trim_frame_end >= 0 && o.trim_frame_end <= std::max<std::int64_t>(o.trim_frame_start, 0)) {
    return {ErrorCode::kUsage, "--trim-frame-end must be after --trim-frame-start"};
  }
  if (o.face_tracker_interval < 1 || o.face_tracker_interval > 100) {
    return {ErrorCode::kUsage, "--face-tracker-interval must be within 1-100"};
  }
  if (o.max_video_frames < 1 || o.max_video_seconds <= 0) {
    return {ErrorCode::kUsage, "--max-video-frames and --max-video-seconds must be positive"};
  }
  return Status::Ok();
}

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// Maps `name` to the enum value at the same index in `names`.
template <typename Enum>
Result<Enum> ParseByName(std::string_view what, std::string_view name, std::span<const std::string_view> names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return Status(ErrorCode::kUsage, std::string("unknown ") + std::string(what) + " '" + std::string(name) +
                                       "' (valid: " + JoinNames(names) + ")");
}

}  // namespace

Result<FaceSelectorMode> ParseFaceSelectorMode(std::string_view name) {
  return ParseByName<FaceSelectorMode>("face selector mode", name, kSelectorModeNames);
}
Result<FaceSelectorOrder> ParseFaceSelectorOrder(std::string_view name) {
  return ParseByName<FaceSelectorOrder>("face selector order", name, kSelectorOrderNames);
}
Result<ClassicBlend> ParseClassicBlend(std::string_view name) {
  return ParseByName<ClassicBlend>("classic blend", name, kClassicBlendNames);
}
std::span<const std::string_view> FaceSelectorModeNames() { return kSelectorModeNames; }
std::span<const std::string_view> FaceSelectorOrderNames() { return kSelectorOrderNames; }
std::span<const std::string_view> ClassicBlendNames() { return kClassicBlendNames; }
std::span<const std::string_view> VideoPresetNames() { return kVideoPresetNames; }

Status ValidateSwapOptions(const SwapOptions& options) {
  if (options.source_paths.empty()) return {ErrorCode::kUsage, "at least one --source is required"};
  if (options.target_path.empty()) return {ErrorCode::kUsage, "--target is required"};
  if (options.output_path.empty()) return {ErrorCode::kUsage, "--output is required"};
  const auto in_unit = [](float v) { return v >= 0.0F && v <= 1.0F; };
  if (!in_unit(options.face_detector_score) || !in_unit(options.face_landmarker_score) ||
      !in_unit(options.face_swapper_weight) || !in_unit(options.face_mask_blur) ||
      !in_unit(options.face_enhancer_weight) || !in_unit(options.reference_face_distance)) {
    return {ErrorCode::kUsage, "scores, weights, --face-mask-blur and --reference-face-distance must be within 0-1"};
  }
  if (options.face_enhancer_blend < 0 || options.face_enhancer_blend > 100) {
    return {ErrorCode::kUsage, "--face-enhancer-blend must be within 0-100"};
  }
  for (const int padding : options.face_mask_padding) {
    if (padding < 0 || padding > 100) return {ErrorCode::kUsage, "--face-mask-padding values must be within 0-100"};
  }
  const int boost = options.face_swapper_pixel_boost;
  if (boost != 0 && (boost < 128 || boost > 1024 || (boost & (boost - 1)) != 0)) {
    return {ErrorCode::kUsage, "--face-swapper-pixel-boost must be 128, 256, 512 or 1024"};
  }
  for (const auto& type : options.face_mask_types) {
    if (type != "box" && type != "occlusion" && type != "area" && type != "region") {
      return {ErrorCode::kUsage, "unknown face mask type '" + type + "' (valid: box, occlusion, area, region)"};
    }
  }
  if (options.output_image_quality < 0 || options.output_image_quality > 100) {
    return {ErrorCode::kUsage,
            "--output-image-quality must be within 0-100, got " + std::to_string(options.output_image_quality)};
  }
  if (options.reference_face_position < 0) {
    return {ErrorCode::kUsage, "--reference-face-position must be >= 0"};
  }
  if (options.max_image_pixels <= 0 || options.max_image_pixels > kMaxImagePixelsLimit) {
    return {ErrorCode::kUsage, "--max-image-pixels must be within 1-" + std::to_string(kMaxImagePixelsLimit)};
  }
  return ValidateVideoOptions(options);
}

}  // namespace facefleet
