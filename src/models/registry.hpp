// The table of every supported model: what it is, where FaceFusion publishes it, its licence, and the exact
// tensor contract facefleet checks when the file is loaded.
//
// Facts come from FaceFusion 3.8.1 (see ../shared/reference/facefusion-models.md); sizes marked approximate
// are from public mirrors, used only for progress bars and disk-space checks. Thread-safe (immutable data).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace facefleet::models {

enum class ModelKind : std::uint8_t {
  kDetector,
  kLandmarker,
  kRecognizer,
  kSwapper,
  kEmbeddingConverter,
  kEnhancer,
  kOccluder,
  kParser,
};

enum class ElementType : std::uint8_t { kFloat32, kFloat16, kFloat64, kInt64 };

// One input or output. Dimensions: a positive number must match exactly; -1 accepts any size.
struct TensorSpec {
  std::string_view name;  // empty: matched by position only (the exporter's name is not part of the contract)
  ElementType type = ElementType::kFloat32;
  std::vector<std::int64_t> shape;
};

// Where the crop a model sees comes from: a 5-point template (FaceFusion's WARP_TEMPLATE_SET) scaled to
// crop_size, and how pixels are normalised: (x/255 - mean) / std per RGB channel.
struct ModelInfo {
  std::string_view name;
  ModelKind kind;
  std::string_view file;     // file name in the models directory
  std::string_view release;  // FaceFusion asset release tag, e.g. "models-3.0.0"
  std::string_view license;
  bool commercial_use = false;  // whether the licence allows commercial use
  std::int64_t approx_bytes = 0;
  std::string_view warp_template;  // "" for models that take a whole frame
  int crop_size = 0;
  std::array<float, 3> mean = {0, 0, 0};
  std::array<float, 3> stddev = {1, 1, 1};
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::string_view companion;  // a model this one needs (crossface converter for simswap/ghost), or ""
};

std::span<const ModelInfo> AllModels();

// nullptr when unknown.
const ModelInfo* FindModel(std::string_view name);

// "a, b, c" of the model names of one kind (for error messages and --help).
std::string ModelNames(ModelKind kind);

std::string_view KindName(ModelKind kind);

// FaceFusion's download locations, in preference order: GitHub release asset, then the Hugging Face mirror.
// The CRC32 hash file sits at the same URL with ".hash" in place of ".onnx".
std::vector<std::string> DownloadUrls(const ModelInfo& model);

// Named 5-point alignment templates (normalised to [0,1]; multiply by the crop size). Points are ordered
// left eye, right eye, nose tip, left mouth corner, right mouth corner.
using WarpTemplate = std::array<std::array<float, 2>, 5>;
const WarpTemplate* FindWarpTemplate(std::string_view name);

}  // namespace facefleet::models
