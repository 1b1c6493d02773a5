// yunet_2023_mar (OpenCV zoo): raw 0-255 BGR input; 12 outputs cls, obj, bbox, kps for strides 8/16/32 with
// one anchor per cell. score = cls * obj; centre = bbox.xy * stride + cell; size = exp(bbox.wh) * stride.
#include <cmath>

#include "models/detector_common.hpp"

namespace facefleet::models::detail {
namespace {

std::vector<Detection> DecodeYunet(const std::vector<runtime::Tensor>& outputs, int size, float threshold) {
  constexpr std::array<int, 3> kStrides = {8, 16, 32};
  std::vector<Detection> found;
  for (std::size_t k = 0; k < kStrides.size(); ++k) {
    const int stride = kStrides[k];
    const int cols = size / stride;
    const auto& cls = outputs[k].data;
    const auto& obj = outputs[k + 3].data;
    const auto& bbox = outputs[k + 6].data;
    const auto& kps = outputs[k + 9].data;
    const std::size_t count = std::min({cls.size(), obj.size(), static_cast<std::size_t>(cols * cols)});
    for (std::size_t i = 0; i < count; ++i) {
      const float score = cls[i] * obj[i];
      if (score < threshold) continue;
      const int column = static_cast<int>(i) % cols;
      const int row = static_cast<int>(i) / cols;
      const auto ax = static_cast<float>(column * stride);
      const auto ay = static_cast<float>(row * stride);
      const float cx = bbox[i * 4] * stride + ax, cy = bbox[i * 4 + 1] * stride + ay;
      const float w = std::exp(bbox[i * 4 + 2]) * stride, h = std::exp(bbox[i * 4 + 3]) * stride;
      Detection d;
      d.score = score;
      d.box = {cx - w / 2, cy - h / 2, w, h};
      for (std::size_t p = 0; p < 5; ++p)
        d.landmark5[p] = {kps[i * 10 + p * 2] * stride + ax, kps[i * 10 + p * 2 + 1] * stride + ay};
      d.has_landmark5 = true;
      found.push_back(d);
    }
  }
  return found;
}

}  // namespace

DetectorRecipe YunetRecipe() { return {0.0F, 1.0F, DecodeYunet}; }

}  // namespace facefleet::models::detail
