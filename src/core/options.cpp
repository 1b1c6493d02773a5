// Name tables and validation for the public option structs.
#include "facefleet/options.hpp"

#include <array>
#include <string>

namespace facefleet {
namespace {

constexpr std::array<std::string_view, 3> kSelectorModeNames = {"one", "many", "reference"};
constexpr std::array<std::string_view, 8> kSelectorOrderNames = {
    "left-right", "right-left", "top-bottom", "bottom-top", "small-large", "large-small", "best-worst", "worst-best"};
constexpr std::array<std::string_view, 2> kClassicBlendNames = {"feather", "poisson"};

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

Status ValidateSwapOptions(const SwapOptions& options) {
  if (options.source_paths.empty()) return {ErrorCode::kUsage, "at least one --source is required"};
  if (options.target_path.empty()) return {ErrorCode::kUsage, "--target is required"};
  if (options.output_path.empty()) return {ErrorCode::kUsage, "--output is required"};
  if (options.face_swapper_model != "classic") {
    return {ErrorCode::kUsage, "unknown face swapper model '" + options.face_swapper_model + "' (valid: classic)"};
  }
  if (options.output_image_quality < 0 || options.output_image_quality > 100) {
    return {ErrorCode::kUsage,
            "--output-image-quality must be within 0-100, got " + std::to_string(options.output_image_quality)};
  }
  if (options.reference_face_position < 0) {
    return {ErrorCode::kUsage, "--reference-face-position must be >= 0"};
  }
  if (options.max_image_pixels <= 0) return {ErrorCode::kUsage, "--max-image-pixels must be > 0"};
  return Status::Ok();
}

}  // namespace facefleet
