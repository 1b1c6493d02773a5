// facefleet/options.hpp — options for building an Engine and for one swap.
//
// Names follow FaceFusion's flags where the feature is the same (SwapOptions::face_selector_mode is
// `--face-selector-mode`). Every field documents its default; the CLI and the HTTP API fill these structs
// and never invent defaults of their own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "facefleet/status.hpp"

namespace facefleet {

// Which target faces get swapped.
enum class FaceSelectorMode : std::uint8_t {
  kOne,        // the first face after sorting by face_selector_order
  kMany,       // every face
  kReference,  // the face at reference_face_position after sorting (for an image the reference frame is
               // the target itself, so this picks one face by position)
};

enum class FaceSelectorOrder : std::uint8_t {
  kLeftRight,
  kRightLeft,
  kTopBottom,
  kBottomTop,
  kSmallLarge,
  kLargeSmall,
  kBestWorst,
  kWorstBest,
};

// How the classic swapper blends the warped source face into the target (see docs/architecture.md for the
// measurements behind the default).
enum class ClassicBlend : std::uint8_t { kFeather, kPoisson };

// Options fixed for the lifetime of an Engine.
struct EngineOptions {
  // dlib's 68-point shape predictor (Debian package libdlib-data).
  std::string shape_predictor_path = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";
  // The classic HOG detector first runs on a copy whose longer side is at most this many pixels (fast);
  // only if that finds nothing does it retry on a larger copy (up to 2x this), so small faces in large
  // photos are still found.
  int classic_detector_size = 320;

  // Neural models (FaceFusion's files) are looked up here; "" = $FACEFLEET_MODELS_DIR, else
  // ~/.local/share/facefleet/models. Models are loaded on first use and then shared by all callers.
  std::string models_dir;
  // ONNX Runtime execution providers in preference order: tensorrt, cuda, cpu. Unavailable ones are skipped
  // with a warning.
  std::vector<std::string> execution_providers = {"cpu"};
  int execution_device_id = 0;
  int execution_thread_count = 0;                              // 0 = ONNX Runtime's default
  std::string execution_cudnn_conv_algo_search = "HEURISTIC";  // CUDA: EXHAUSTIVE | HEURISTIC | DEFAULT
  std::string execution_tensorrt_cache_dir;  // TensorRT engine + timing caches ("" = none: rebuilt each start)
  bool execution_tensorrt_fp16 = true;       // TensorRT: allow fp16 kernels
};

// The largest --max-image-pixels accepted: 500 MP keeps every pixel index of a 4-channel image within int.
inline constexpr std::int64_t kMaxImagePixelsLimit = 500'000'000;

// Options for one swap request.
struct SwapOptions {
  std::vector<std::string> source_paths;  // one or more images, the largest face of each is used
  std::string target_path;
  std::string output_path;

  // Models: "classic" = dlib + geometry (no download); otherwise names from the registry
  // (`facefleet models list`).
  std::string face_detector_model = "classic";  // classic | yoloface_8n | scrfd_2.5g | retinaface_10g | yunet_2023_mar
  int face_detector_size = 640;                 // neural detectors' square input (retinaface/scrfd: 160-640)
  float face_detector_score = 0.5F;
  std::string face_landmarker_model = "classic";  // classic (dlib) | 2dfan4
  float face_landmarker_score = 0.5F;             // 2dfan4 points are used for alignment above this score
  // "none" (videos only): transcode without face processing, for benchmarks.
  std::string face_swapper_model = "classic";
  int face_swapper_pixel_boost = 0;   // crop size fed through the model in tiles; 0 = the model's own size
  float face_swapper_weight = 0.5F;   // 0-1; 0.5 = the source identity unchanged
  std::string face_enhancer_model;    // "" = no enhancer; gfpgan_1.4 | codeformer
  int face_enhancer_blend = 80;       // 0-100
  float face_enhancer_weight = 0.5F;  // codeformer fidelity
  std::vector<std::string> face_mask_types = {"box"};  // box | occlusion | area | region (combined: minimum)
  float face_mask_blur = 0.3F;
  std::array<int, 4> face_mask_padding = {0, 0, 0, 0};  // percent: top, right, bottom, left
  std::vector<std::string> face_mask_areas = {"upper-face", "lower-face", "mouth"};
  std::vector<std::string> face_mask_regions = {"skin",    "left-eyebrow", "right-eyebrow", "left-eye",  "right-eye",
                                                "glasses", "nose",         "mouth",         "upper-lip", "lower-lip"};
  std::string face_occluder_model = "xseg_1";
  std::string face_parser_model = "bisenet_resnet_34";
  float reference_face_distance = 0.3F;  // reference mode with a recognizer: swap faces closer than this

  FaceSelectorMode face_selector_mode = FaceSelectorMode::kReference;
  FaceSelectorOrder face_selector_order = FaceSelectorOrder::kLargeSmall;
  int reference_face_position = 0;  // index into the sorted target faces (reference mode)
  ClassicBlend classic_blend = ClassicBlend::kFeather;

  int output_image_quality = 80;               // 0-100; JPEG/WebP quality (PNG and BMP are lossless)
  std::int64_t max_image_pixels = 40'000'000;  // per input image (and per video frame), checked before decoding

  // Video targets (see Engine::SwapVideo). The output extension picks the container: .mp4 .mov .mkv .webm.
  std::string output_video_encoder;              // "" = libx264 (libvpx-vp9 for .webm) | libx265 | libvpx-vp9
  int output_video_quality = 80;                 // 0-100 -> CRF: x264/x265 51 - q*0.51, vp9 63 - q*0.63
  std::string output_video_preset = "veryfast";  // ultrafast ... veryslow (x264 names; mapped for vp9)
  double output_video_fps = 0;                   // 0 = the source's rate; else frames dropped/repeated
  std::int64_t trim_frame_start = -1;            // first frame swapped (-1 = the first)
  std::int64_t trim_frame_end = -1;              // one past the last frame swapped (-1 = to the end)
  std::string output_audio_encoder;              // "" = copy the source audio when the container takes it, else aac
                                                 // (opus for .webm); aac | libopus | libvorbis | flac re-encode
  int output_audio_quality = 80;                 // 0-100 -> 64-256 kbit/s (re-encoding only)
  int output_audio_volume = 100;                 // 0-100 percent; below 100 re-encodes
  std::int64_t max_video_frames = 1'000'000;     // frames to swap (after trimming); kLimitExceeded above
  double max_video_seconds = 4 * 3600;           // duration to swap (after trimming); kLimitExceeded above
  int face_tracker_interval = 4;                 // video: detector every N frames (1 = every frame), faces between
                                                 // interpolated from the surrounding detections (IoU-tracked)
  bool face_landmark_smoothing = true;           // video, classic swapper: One-Euro filter on tracked landmarks
};

// Name <-> enum conversions used by the CLI and the HTTP API ("left-right", "many", ...).
Result<FaceSelectorMode> ParseFaceSelectorMode(std::string_view name);
Result<FaceSelectorOrder> ParseFaceSelectorOrder(std::string_view name);
Result<ClassicBlend> ParseClassicBlend(std::string_view name);
std::span<const std::string_view> FaceSelectorModeNames();
std::span<const std::string_view> FaceSelectorOrderNames();
std::span<const std::string_view> ClassicBlendNames();
std::span<const std::string_view> VideoPresetNames();  // ultrafast ... veryslow

// Checks ranges and combinations that do not need any file (quality range, at least one source, ...).
Status ValidateSwapOptions(const SwapOptions& options);

}  // namespace facefleet
