#include "pipeline/neural_swap.hpp"

#include <algorithm>
#include <cmath>

#include "core/stopwatch.hpp"
#include "pipeline/face_align.hpp"

namespace facefleet::pipeline {
namespace {

// FaceFusion's region names and their bisenet class ids.
constexpr std::array<std::pair<std::string_view, int>, 10> kRegions = {{{"skin", 1},
                                                                        {"left-eyebrow", 2},
                                                                        {"right-eyebrow", 3},
                                                                        {"left-eye", 4},
                                                                        {"right-eye", 5},
                                                                        {"glasses", 6},
                                                                        {"nose", 10},
                                                                        {"mouth", 11},
                                                                        {"upper-lip", 12},
                                                                        {"lower-lip", 13}}};

bool Has(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The 68 landmarks mapped into crop coordinates by `affine`.
std::vector<cv::Point2f> CropLandmarks(const Face& face, const cv::Mat& affine) {
  std::vector<cv::Point2f> points;
  for (const Point2& p : face.landmark68) points.emplace_back(p.x, p.y);
  std::vector<cv::Point2f> out;
  cv::transform(points, out, affine);
  return out;
}

// Masks computed on the crop before swapping (box, occlusion).
Result<std::vector<cv::Mat>> PreSwapMasks(const NeuralModels& models, const cv::Mat& crop, const SwapOptions& o) {
  std::vector<cv::Mat> masks;
  if (Has(o.face_mask_types, "box")) masks.push_back(BoxMask(crop.size(), o.face_mask_blur, o.face_mask_padding));
  if (Has(o.face_mask_types, "occlusion")) {
    auto occlusion = models.occluder->Occlusion(crop);
    if (!occlusion.ok()) return occlusion.status();
    masks.push_back(SoftenMask(*occlusion));
  }
  return masks;
}

// Runs the swapper on every pixel-boost tile of `crop` and re-interleaves the results.
Result<cv::Mat> SwapTiles(const models::FaceSwapperModel& swapper, const cv::Mat& crop, std::span<const float> source) {
  const int model_size = swapper.info().crop_size;
  std::vector<cv::Mat> tiles = crop.cols == model_size ? std::vector<cv::Mat>{crop} : SplitPixelBoost(crop, model_size);
  for (cv::Mat& tile : tiles) {
    auto swapped = swapper.SwapCrop(tile, source);
    if (!swapped.ok()) return swapped.status();
    tile = *swapped;
  }
  return tiles.size() == 1 ? tiles[0] : MergePixelBoost(tiles, crop.cols);
}

}  // namespace

models::Embedding AverageEmbeddings(std::span<const models::Embedding> embeddings) {
  models::Embedding out{std::vector<float>(512, 0.0F), std::vector<float>(512, 0.0F)};
  for (const auto& e : embeddings) {
    for (std::size_t i = 0; i < 512; ++i) {
      out.raw[i] += e.raw[i] / static_cast<float>(embeddings.size());
      out.normalized[i] += e.normalized[i] / static_cast<float>(embeddings.size());
    }
  }
  return out;
}

std::vector<float> BalanceSource(std::vector<float> source, const models::Embedding& target, float weight,
                                 std::string_view model_name) {
  const float w = 0.35F - 0.7F * weight;
  if (std::abs(w) < 1e-6F || source.size() != target.raw.size()) return source;
  const std::vector<float>& mix = model_name.starts_with("ghost") ? target.raw : target.normalized;
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = source[i] * (1 - w) + mix[i] * w;
  return source;
}

Result<std::vector<int>> RegionClasses(std::span<const std::string> regions) {
  std::vector<int> out;
  for (const std::string& name : regions) {
    const auto it = std::find_if(kRegions.begin(), kRegions.end(), [&](const auto& r) { return r.first == name; });
    if (it == kRegions.end()) {
      return Status(ErrorCode::kUsage, "unknown face mask region '" + name +
                                           "' (valid: skin, left-eyebrow, right-eyebrow, left-eye, right-eye, "
                                           "glasses, nose, mouth, upper-lip, lower-lip)");
    }
    out.push_back(it->second);
  }
  return out;
}

Status SwapNeuralFace(const NeuralModels& models, std::span<const float> source, const Face& target,
                      const SwapOptions& options, cv::Mat& frame, StageTimings* timings) {
  core::Stopwatch watch;
  const models::ModelInfo& info = models.swapper->info();
  const int boost = options.face_swapper_pixel_boost > 0 ? std::max(options.face_swapper_pixel_boost, info.crop_size)
                                                         : info.crop_size;
  const cv::Mat affine = EstimateAlignment(target.landmark5, *models::FindWarpTemplate(info.warp_template), boost);
  const cv::Mat crop = WarpFace(frame, affine, boost);
  auto masks = PreSwapMasks(models, crop, options);
  if (!masks.ok()) return masks.status();
  auto swapped = SwapTiles(*models.swapper, crop, source);
  if (!swapped.ok()) return swapped.status();
  if (timings != nullptr) timings->warp_ms += watch.LapMs();
  if (Has(options.face_mask_types, "area") && target.has_landmark68) {
    masks->push_back(AreaMask(crop.size(), CropLandmarks(target, affine), options.face_mask_areas));
  }
  if (Has(options.face_mask_types, "region")) {
    auto classes = RegionClasses(options.face_mask_regions);
    if (!classes.ok()) return classes.status();
    auto regions = models.parser->Regions(*swapped, *classes);
    if (!regions.ok()) return regions.status();
    masks->push_back(SoftenMask(*regions));
  }
  const cv::Mat mask = masks->empty() ? cv::Mat(crop.size(), CV_32F, cv::Scalar(1)) : CombineMasks(*masks);
  PasteBack(frame, *swapped, mask, affine);
  if (timings != nullptr) timings->blend_ms += watch.LapMs();
  return Status::Ok();
}

Status EnhanceFace(const NeuralModels& models, const Face& face, const SwapOptions& options, cv::Mat& frame,
                   StageTimings* timings) {
  if (models.enhancer == nullptr) return Status::Ok();
  core::Stopwatch watch;
  const models::ModelInfo& info = models.enhancer->info();
  const cv::Mat affine =
      EstimateAlignment(face.landmark5, *models::FindWarpTemplate(info.warp_template), info.crop_size);
  const cv::Mat crop = WarpFace(frame, affine, info.crop_size);
  std::vector<cv::Mat> masks = {BoxMask(crop.size(), options.face_mask_blur, {0, 0, 0, 0})};  // zero padding
  if (Has(options.face_mask_types, "occlusion")) {
    auto occlusion = models.occluder->Occlusion(crop);
    if (!occlusion.ok()) return occlusion.status();
    masks.push_back(SoftenMask(*occlusion));
  }
  auto enhanced = models.enhancer->Enhance(crop, options.face_enhancer_weight);
  if (!enhanced.ok()) return enhanced.status();
  // FaceFusion pastes (frame * (1 - m) + crop * m) and then blends frame * (1 - b) + pasted * b; that equals
  // one paste with the mask scaled by b, which touches only the face region instead of the whole frame.
  const double blend = options.face_enhancer_blend / 100.0;
  PasteBack(frame, *enhanced, CombineMasks(masks) * blend, affine);
  if (timings != nullptr) timings->enhance_ms += watch.LapMs();
  return Status::Ok();
}

}  // namespace facefleet::pipeline
