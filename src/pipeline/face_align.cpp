#include "pipeline/face_align.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

namespace facefleet::pipeline {
namespace {

// 68-point subsets of FaceFusion's area masks.
std::vector<int> AreaIndices(const std::string& area) {
  std::vector<int> out;
  const auto add = [&](int first, int last) {
    for (int i = first; i <= last; ++i) out.push_back(i);
  };
  if (area == "upper-face") {
    add(0, 2), add(14, 16), add(17, 26), add(31, 35);
  } else if (area == "lower-face") {
    add(3, 13), add(31, 35);
  } else if (area == "mouth") {
    add(48, 67);
  }
  return out;
}

}  // namespace

cv::Mat EstimateAlignment(const std::array<Point2, 5>& landmark5, const models::WarpTemplate& tmpl, int crop_size) {
  std::vector<cv::Point2f> from;
  std::vector<cv::Point2f> to;
  for (std::size_t i = 0; i < 5; ++i) {
    from.emplace_back(landmark5[i].x, landmark5[i].y);
    to.emplace_back(tmpl[i][0] * static_cast<float>(crop_size), tmpl[i][1] * static_cast<float>(crop_size));
  }
  cv::Mat m = cv::estimateAffinePartial2D(from, to, cv::noArray(), cv::RANSAC, 100);
  if (m.empty()) m = cv::getAffineTransform(from.data(), to.data());  // degenerate input: exact on 3 points
  return m;
}

cv::Mat WarpFace(const cv::Mat& frame, const cv::Mat& affine, int crop_size) {
  cv::Mat crop;
  cv::warpAffine(frame, crop, affine, cv::Size(crop_size, crop_size), cv::INTER_AREA, cv::BORDER_REPLICATE);
  return crop;
}

void PasteBack(cv::Mat& frame, const cv::Mat& crop, const cv::Mat& mask, const cv::Mat& affine) {
  cv::Mat inverse;
  cv::invertAffineTransform(affine, inverse);
  const std::vector<cv::Point2f> corners = {{0, 0},
                                            {static_cast<float>(crop.cols), 0},
                                            {static_cast<float>(crop.cols), static_cast<float>(crop.rows)},
                                            {0, static_cast<float>(crop.rows)}};
  std::vector<cv::Point2f> projected;
  cv::transform(corners, projected, inverse);
  float min_x = projected[0].x, max_x = projected[0].x, min_y = projected[0].y, max_y = projected[0].y;
  for (const auto& p : projected) {
    min_x = std::min(min_x, p.x), max_x = std::max(max_x, p.x);
    min_y = std::min(min_y, p.y), max_y = std::max(max_y, p.y);
  }
  const int x1 = std::max(static_cast<int>(std::floor(min_x)), 0);
  const int y1 = std::max(static_cast<int>(std::floor(min_y)), 0);
  const int x2 = std::min(static_cast<int>(std::ceil(max_x)), frame.cols);
  const int y2 = std::min(static_cast<int>(std::ceil(max_y)), frame.rows);
  if (x2 <= x1 || y2 <= y1) return;
  cv::Mat paste = inverse.clone();
  paste.at<double>(0, 2) -= x1;
  paste.at<double>(1, 2) -= y1;
  const cv::Size size(x2 - x1, y2 - y1);
  cv::Mat warped_mask;
  cv::Mat warped_crop;
  cv::warpAffine(mask, warped_mask, paste, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(crop, warped_crop, paste, size, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  warped_mask = cv::min(cv::max(warped_mask, 0.0), 1.0);
  cv::Mat roi = frame(cv::Rect(x1, y1, size.width, size.height));
  cv::Mat roi_f;
  cv::Mat crop_f;
  roi.convertTo(roi_f, CV_32FC3);
  warped_crop.convertTo(crop_f, CV_32FC3);
  cv::Mat mask3;
  cv::merge(std::vector<cv::Mat>{warped_mask, warped_mask, warped_mask}, mask3);
  const cv::Mat mixed = roi_f + mask3.mul(crop_f - roi_f);
  mixed.convertTo(roi, CV_8UC3);
}

std::vector<cv::Mat> SplitPixelBoost(const cv::Mat& crop, int model_size) {
  const int k = crop.cols / model_size;
  std::vector<cv::Mat> tiles;
  for (int a = 0; a < k; ++a) {
    for (int b = 0; b < k; ++b) {
      cv::Mat tile(model_size, model_size, crop.type());
      for (int i = 0; i < model_size; ++i) {
        for (int j = 0; j < model_size; ++j) {
          std::memcpy(tile.ptr(i, j), crop.ptr(i * k + a, j * k + b), crop.elemSize());
        }
      }
      tiles.push_back(tile);
    }
  }
  return tiles;
}

cv::Mat MergePixelBoost(std::span<const cv::Mat> tiles, int boost_size) {
  const int model_size = tiles[0].cols;
  const int k = boost_size / model_size;
  cv::Mat out(boost_size, boost_size, tiles[0].type());
  for (int a = 0; a < k; ++a) {
    for (int b = 0; b < k; ++b) {
      const cv::Mat& tile = tiles[static_cast<std::size_t>(a * k + b)];
      for (int i = 0; i < model_size; ++i) {
        for (int j = 0; j < model_size; ++j) {
          std::memcpy(out.ptr(i * k + a, j * k + b), tile.ptr(i, j), out.elemSize());
        }
      }
    }
  }
  return out;
}

namespace {

cv::Mat ComputeBoxMask(cv::Size size, float blur, const std::array<int, 4>& padding_percent) {
  const int blur_amount = static_cast<int>(static_cast<float>(size.width) * 0.5F * blur);
  const int blur_area = std::max(blur_amount / 2, 1);
  cv::Mat mask(size, CV_32F, cv::Scalar(1));
  const auto border = [&](int percent, int extent) { return std::max(blur_area, extent * percent / 100); };
  const int top = border(padding_percent[0], size.height);
  const int right = border(padding_percent[1], size.width);
  const int bottom = border(padding_percent[2], size.height);
  const int left = border(padding_percent[3], size.width);
  mask.rowRange(0, std::min(top, size.height)).setTo(0);
  mask.rowRange(std::max(size.height - bottom, 0), size.height).setTo(0);
  mask.colRange(0, std::min(left, size.width)).setTo(0);
  mask.colRange(std::max(size.width - right, 0), size.width).setTo(0);
  if (blur_amount > 0) cv::GaussianBlur(mask, mask, cv::Size(0, 0), blur_amount * 0.25);
  return mask;
}

}  // namespace

cv::Mat BoxMask(cv::Size size, float blur, const std::array<int, 4>& padding_percent) {
  // The mask depends only on its parameters, and the blur is the costliest step of a paste-back (a 150-tap
  // kernel at 512 px), so each distinct mask is computed once per process. Callers get their own copy.
  using Key = std::tuple<int, int, float, std::array<int, 4>>;
  static std::mutex mutex;
  static std::map<Key, cv::Mat> cache;  // guarded by mutex; a handful of entries (one per crop size/options)
  const Key key{size.width, size.height, blur, padding_percent};
  {
    std::lock_guard lock(mutex);
    if (const auto it = cache.find(key); it != cache.end()) return it->second.clone();
  }
  cv::Mat mask = ComputeBoxMask(size, blur, padding_percent);
  std::lock_guard lock(mutex);
  if (cache.size() < 64) cache.emplace(key, mask);
  return mask.clone();
}

cv::Mat AreaMask(cv::Size size, std::span<const cv::Point2f> landmark68, std::span<const std::string> areas) {
  cv::Mat mask = cv::Mat::zeros(size, CV_32F);
  for (const std::string& area : areas) {
    std::vector<cv::Point2f> points;
    for (const int i : AreaIndices(area)) points.push_back(landmark68[static_cast<std::size_t>(i)]);
    if (points.size() < 3) continue;
    std::vector<cv::Point2f> hull;
    cv::convexHull(points, hull);
    std::vector<cv::Point> polygon;
    polygon.reserve(hull.size());
    for (const auto& p : hull) polygon.emplace_back(cvRound(p.x), cvRound(p.y));
    cv::fillConvexPoly(mask, polygon, cv::Scalar(1));
  }
  return SoftenMask(mask);
}

cv::Mat SoftenMask(const cv::Mat& mask) {
  cv::Mat out;
  cv::GaussianBlur(mask, out, cv::Size(0, 0), 5);
  out = (cv::min(cv::max(out, 0.5), 1.0) - 0.5) * 2.0;
  return out;
}

cv::Mat CombineMasks(std::span<const cv::Mat> masks) {
  cv::Mat out = masks[0].clone();
  for (std::size_t i = 1; i < masks.size(); ++i) out = cv::min(out, masks[i]);
  return cv::min(cv::max(out, 0.0), 1.0);
}

std::vector<float> ToPlanes(const cv::Mat& hwc, bool reverse_channels, const std::array<float, 3>& alpha,
                            const std::array<float, 3>& beta) {
  CV_Assert(hwc.type() == CV_8UC3);
  const int plane = hwc.rows * hwc.cols;
  std::vector<float> out(static_cast<std::size_t>(plane) * 3);
  std::array<cv::Mat, 3> channels;
  cv::split(hwc, channels.data());
  for (int c = 0; c < 3; ++c) {
    const int from = reverse_channels ? 2 - c : c;
    // convertTo writes straight into the tensor through a header over its c-th plane (vectorised).
    cv::Mat dst(hwc.rows, hwc.cols, CV_32F, out.data() + static_cast<std::ptrdiff_t>(c) * plane);
    channels[static_cast<std::size_t>(from)].convertTo(dst, CV_32F, alpha[static_cast<std::size_t>(c)],
                                                       beta[static_cast<std::size_t>(c)]);
  }
  return out;
}

std::vector<float> ToNchwRgb(const cv::Mat& bgr, const std::array<float, 3>& mean, const std::array<float, 3>& stddev) {
  std::array<float, 3> alpha{}, beta{};
  for (std::size_t c = 0; c < 3; ++c) {  // ((x / 255) - mean) / std == x * (1 / (255 std)) - mean / std
    alpha[c] = 1.0F / (255.0F * stddev[c]);
    beta[c] = -mean[c] / stddev[c];
  }
  return ToPlanes(bgr, true, alpha, beta);
}

cv::Mat FromNchwRgb(std::span<const float> data, int size, const std::array<float, 3>& mean,
                    const std::array<float, 3>& stddev, bool denormalize) {
  const int plane = size * size;
  std::array<cv::Mat, 3> bgr;
  for (int c = 0; c < 3; ++c) {  // c: RGB plane -> BGR channel 2 - c
    const cv::Mat src(size, size, CV_32F, const_cast<float*>(data.data()) + static_cast<std::ptrdiff_t>(c) * plane);
    const auto k = static_cast<std::size_t>(c);
    // clip(x * std + mean, 0, 1) * 255, rounded: convertTo's saturating cast does the clip and the rounding.
    const double alpha = denormalize ? 255.0 * stddev[k] : 255.0;
    const double beta = denormalize ? 255.0 * mean[k] : 0.0;
    src.convertTo(bgr[static_cast<std::size_t>(2 - c)], CV_8U, alpha, beta);
  }
  cv::Mat out;
  cv::merge(bgr.data(), 3, out);
  return out;
}

}  // namespace facefleet::pipeline
