// facefleet/options.hpp — options for building an Engine and for one swap.
//
// Names follow FaceFusion's flags where the feature is the same (SwapOptions::face_selector_mode is
// `--face-selector-mode`). Every field documents its default; the CLI and the HTTP API fill these structs
// and never invent defaults of their own.
#pragma once

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
  int face_detector_size = 320;
};

// Options for one swap request.
struct SwapOptions {
  std::vector<std::string> source_paths;  // one or more images, the largest face of each is used
  std::string target_path;
  std::string output_path;

  std::string face_swapper_model = "classic";
  FaceSelectorMode face_selector_mode = FaceSelectorMode::kReference;
  FaceSelectorOrder face_selector_order = FaceSelectorOrder::kLargeSmall;
  int reference_face_position = 0;  // index into the sorted target faces (reference mode)
  ClassicBlend classic_blend = ClassicBlend::kFeather;

  int output_image_quality = 80;               // 0-100; JPEG/WebP quality (PNG and BMP are lossless)
  std::int64_t max_image_pixels = 40'000'000;  // per input image, checked from the header before decoding
};

// Name <-> enum conversions used by the CLI and the HTTP API ("left-right", "many", ...).
Result<FaceSelectorMode> ParseFaceSelectorMode(std::string_view name);
Result<FaceSelectorOrder> ParseFaceSelectorOrder(std::string_view name);
Result<ClassicBlend> ParseClassicBlend(std::string_view name);
std::span<const std::string_view> FaceSelectorModeNames();
std::span<const std::string_view> FaceSelectorOrderNames();
std::span<const std::string_view> ClassicBlendNames();

// Checks ranges and combinations that do not need any file (quality range, at least one source, ...).
Status ValidateSwapOptions(const SwapOptions& options);

}  // namespace facefleet
