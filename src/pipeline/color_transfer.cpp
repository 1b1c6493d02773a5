#include "pipeline/color_transfer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace facefleet::pipeline {
namespace {

// BGR -> (Y, Cr, Cb) of ITU-R BT.601 without the chroma offsets: a luma channel and two opponent chroma
// channels. Natural images' channels are nearly decorrelated in it, which is what makes matching each
// channel's statistics on its own work (Reinhard et al. used Lab for the same reason). Being linear, the
// whole transfer becomes one affine map of BGR.
const cv::Matx33d kToYcc(0.114, 0.587, 0.299,                                   // Y
                         -0.713 * 0.114, -0.713 * 0.587, 0.713 * (1 - 0.299),   // Cr = 0.713 (R - Y)
                         0.564 * (1 - 0.114), -0.564 * 0.587, -0.564 * 0.299);  // Cb = 0.564 (B - Y)

struct Moments {
  cv::Vec3d mean;
  cv::Matx33d cov;
};

// Mean and covariance of the BGR pixels of `bgr` where `mask` is non-zero (one pass, 8-bit input).
// Precondition: the mask has at least one non-zero pixel.
Moments MaskedMoments(const cv::Mat& bgr, const cv::Mat& mask) {
  std::array<double, 3> sum{};
  std::array<double, 6> sq{};  // bb bg br gg gr rr
  double n = 0;
  for (int y = 0; y < bgr.rows; ++y) {
    const std::uint8_t* p = bgr.ptr<std::uint8_t>(y);
    const std::uint8_t* m = mask.ptr<std::uint8_t>(y);
    std::array<std::int64_t, 3> row_sum{};
    std::array<std::int64_t, 6> row_sq{};  // exact integer sums per row, then accumulated in double
    std::int64_t row_n = 0;
    for (int x = 0; x < bgr.cols; ++x) {
      if (m[x] == 0) continue;
      const std::int64_t b = p[3 * x], g = p[3 * x + 1], r = p[3 * x + 2];
      row_sum[0] += b, row_sum[1] += g, row_sum[2] += r;
      row_sq[0] += b * b, row_sq[1] += b * g, row_sq[2] += b * r, row_sq[3] += g * g, row_sq[4] += g * r,
          row_sq[5] += r * r;
      ++row_n;
    }
    for (std::size_t i = 0; i < 3; ++i) sum[i] += static_cast<double>(row_sum[i]);
    for (std::size_t i = 0; i < 6; ++i) sq[i] += static_cast<double>(row_sq[i]);
    n += static_cast<double>(row_n);
  }
  Moments m;
  m.mean = cv::Vec3d(sum[0] / n, sum[1] / n, sum[2] / n);
  const auto c = [&](std::size_t i, int a, int b) { return sq[i] / n - m.mean[a] * m.mean[b]; };
  m.cov = cv::Matx33d(c(0, 0, 0), c(1, 0, 1), c(2, 0, 2),  //
                      c(1, 0, 1), c(3, 1, 1), c(4, 1, 2),  //
                      c(2, 0, 2), c(4, 1, 2), c(5, 2, 2));
  return m;
}

}  // namespace

cv::Mat TransferColor(const cv::Mat& source, const cv::Mat& reference, const cv::Mat& mask) {
  if (cv::countNonZero(mask) == 0) return source.clone();
  // Only the statistics need the reference, and only inside the mask's bounding box.
  const cv::Rect stats = cv::boundingRect(mask);
  const Moments src = MaskedMoments(source(stats), mask(stats));
  const Moments ref = MaskedMoments(reference(stats), mask(stats));
  const cv::Vec3d src_mean = kToYcc * src.mean, ref_mean = kToYcc * ref.mean;
  const cv::Matx33d src_cov = kToYcc * src.cov * kToYcc.t(), ref_cov = kToYcc * ref.cov * kToYcc.t();
  cv::Matx33d gain = cv::Matx33d::zeros();
  for (int c = 0; c < 3; ++c) {
    const double s = std::sqrt(std::max(src_cov(c, c), 0.0)), r = std::sqrt(std::max(ref_cov(c, c), 0.0));
    gain(c, c) = std::clamp(s > 1e-6 ? r / s : 1.0, 0.5, 2.0);
  }
  // ycc' = gain (ycc - src_mean) + ref_mean  <=>  bgr' = M bgr + t, applied in one saturating 8-bit pass.
  const cv::Matx33d from_ycc = kToYcc.inv();
  const cv::Matx33d m = from_ycc * gain * kToYcc;
  const cv::Vec3d t = from_ycc * (ref_mean - gain * src_mean);
  const cv::Matx34f affine(static_cast<float>(m(0, 0)), static_cast<float>(m(0, 1)), static_cast<float>(m(0, 2)),
                           static_cast<float>(t[0]), static_cast<float>(m(1, 0)), static_cast<float>(m(1, 1)),
                           static_cast<float>(m(1, 2)), static_cast<float>(t[1]), static_cast<float>(m(2, 0)),
                           static_cast<float>(m(2, 1)), static_cast<float>(m(2, 2)), static_cast<float>(t[2]));
  cv::Mat out;
  cv::transform(source, out, affine);
  return out;
}

}  // namespace facefleet::pipeline
