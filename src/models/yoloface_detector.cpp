// yoloface_8n: BGR input x / 255; one output (1, 20, 8400) holding per candidate cx, cy, w, h, score and
// five (x, y, visibility) triples, for 80x80 + 40x40 + 20x20 cells of a 640 input.
#include "models/detector_common.hpp"

namespace facefleet::models::detail {
namespace {

std::vector<Detection> DecodeYoloface(const std::vector<runtime::Tensor>& outputs, int /*size*/, float threshold) {
  const runtime::Tensor& out = outputs[0];
  const std::size_t n = out.shape.size() == 3 ? static_cast<std::size_t>(out.shape[2]) : 0;
  const auto at = [&](std::size_t row, std::size_t i) { return out.data[row * n + i]; };  // (20, n) layout
  std::vector<Detection> found;
  for (std::size_t i = 0; i < n; ++i) {
    const float score = at(4, i);
    if (score <= threshold) continue;  // FaceFusion keeps yoloface scores strictly above the threshold
    Detection d;
    d.score = score;
    const float w = at(2, i), h = at(3, i);
    d.box = {at(0, i) - w / 2, at(1, i) - h / 2, w, h};
    for (std::size_t p = 0; p < 5; ++p) d.landmark5[p] = {at(5 + p * 3, i), at(6 + p * 3, i)};
    d.has_landmark5 = true;
    found.push_back(d);
  }
  return found;
}

}  // namespace

DetectorRecipe YolofaceRecipe() { return {0.0F, 255.0F, DecodeYoloface}; }

}  // namespace facefleet::models::detail
