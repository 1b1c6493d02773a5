#include "pipeline/classic_swapper.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include "core/stopwatch.hpp"
#include "pipeline/color_transfer.hpp"
#include "pipeline/geometry.hpp"

namespace facefleet::pipeline {
namespace {

std::vector<cv::Point2f> AlignPoints(const std::vector<cv::Point2f>& points, const std::vector<cv::Point2f>& to) {
  const cv::Mat m = cv::estimateAffinePartial2D(points, to, cv::noArray(), cv::LMEDS);
  if (m.empty()) return points;
  std::vector<cv::Point2f> out;
  cv::transform(points, out, m);
  return out;
}

// Blend width in pixels: proportional to the face size so small and large faces look alike.
int FeatherRadius(const cv::Rect& face_box) {
  const double size = std::sqrt(static_cast<double>(face_box.area()));
  return std::max(2, static_cast<int>(std::lround(0.08 * size)));
}

// roi += alpha * (face - roi), per channel, rounded to nearest: the float formula of an alpha blend, in one
// pass over 8-bit pixels (no float copies of the images); pixels with alpha 0 are not touched.
void BlendFeather(const cv::Mat& face, const cv::Mat& alpha, cv::Mat& roi) {
  for (int y = 0; y < roi.rows; ++y) {
    const float* a = alpha.ptr<float>(y);
    const std::uint8_t* f = face.ptr<std::uint8_t>(y);
    std::uint8_t* r = roi.ptr<std::uint8_t>(y);
    for (int x = 0; x < roi.cols; ++x) {
      if (a[x] == 0.0F) continue;
      for (int c = 3 * x; c < 3 * x + 3; ++c) {
        const float base = r[c];
        r[c] = cv::saturate_cast<std::uint8_t>(base + a[x] * (static_cast<float>(f[c]) - base));
      }
    }
  }
}

// `face` and `hard_mask` cover `box` of `roi`.
void BlendPoisson(const cv::Mat& face, const cv::Mat& hard_mask, cv::Mat& roi, const cv::Rect& box) {
  // seamlessClone must not touch the source's border; erode by 2 px (outside `box` counts as unset) so the
  // mask stays inside.
  cv::Mat mask;
  cv::erode(hard_mask, mask, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)), cv::Point(-1, -1), 1,
            cv::BORDER_CONSTANT, cv::Scalar(0));
  const cv::Rect inside = cv::boundingRect(mask);
  if (inside.empty()) return;
  const cv::Point center(box.x + inside.x + inside.width / 2, box.y + inside.y + inside.height / 2);
  cv::Mat out;
  cv::seamlessClone(face, roi, mask, center, out, cv::NORMAL_CLONE);
  cv::Mat roi_box = roi(box);
  out(box).copyTo(roi_box, mask);
}

}  // namespace

ClassicSource BuildClassicSource(std::span<const cv::Mat> images, std::span<const Face> faces) {
  ClassicSource source{images[0], ToCv(faces[0].landmark68)};
  if (images.size() == 1) return source;
  std::vector<std::vector<cv::Point2f>> aligned;
  std::vector<cv::Point2f> mean(source.points.size());
  for (const Face& face : faces) {
    aligned.push_back(AlignPoints(ToCv(face.landmark68), source.points));
    for (std::size_t p = 0; p < mean.size(); ++p) mean[p] += aligned.back()[p] / static_cast<float>(faces.size());
  }
  const std::vector<Triangle> triangles = Triangulate(mean);
  cv::Mat sum = cv::Mat::zeros(images[0].size(), CV_32FC3);
  cv::Mat count = cv::Mat::zeros(images[0].size(), CV_32FC1);
  for (std::size_t i = 0; i < images.size(); ++i) {
    cv::Mat coverage;
    const cv::Mat warped =
        WarpPiecewiseAffine(images[i], ToCv(faces[i].landmark68), mean, triangles, images[0].size(), coverage);
    cv::add(sum, warped, sum, coverage, CV_32FC3);
    cv::add(count, cv::Scalar(1), count, coverage);
  }
  const cv::Mat covered = count > 0;
  cv::Mat count3;
  cv::merge(std::vector<cv::Mat>{count, count, count}, count3);
  cv::Mat average;
  cv::divide(sum, cv::max(count3, 1.0F), average);
  source.texture = images[0].clone();
  average.convertTo(average, CV_8UC3);
  average.copyTo(source.texture, covered);
  source.points = mean;
  return source;
}

cv::Mat TargetFaceMask(const Face& target, cv::Size frame_size) {
  return HullMask(ToCv(target.landmark68), frame_size);
}

void SwapClassicFace(const ClassicSource& source, const Face& target, ClassicBlend blend, cv::Mat& frame,
                     StageTimings* timings) {
  core::Stopwatch watch;
  const std::vector<cv::Point2f> dst_points = ToCv(target.landmark68);
  const cv::Rect hull_box = cv::boundingRect(dst_points);
  const int margin = std::max(8, hull_box.width / 8);
  const cv::Rect roi_rect =
      cv::Rect(hull_box.x - margin, hull_box.y - margin, hull_box.width + 2 * margin, hull_box.height + 2 * margin) &
      cv::Rect(0, 0, frame.cols, frame.rows);
  if (roi_rect.width < 3 || roi_rect.height < 3) return;
  std::vector<cv::Point2f> local(dst_points.size());
  const cv::Point2f offset(static_cast<float>(roi_rect.x), static_cast<float>(roi_rect.y));
  std::transform(dst_points.begin(), dst_points.end(), local.begin(), [&](cv::Point2f p) { return p - offset; });

  cv::Mat coverage;
  const cv::Mat warped =
      WarpPiecewiseAffine(source.texture, source.points, local, Triangulate(local), roi_rect.size(), coverage);
  cv::Mat hard = HullMask(local, roi_rect.size());
  hard &= coverage;
  cv::Mat roi = frame(roi_rect);
  const int radius = FeatherRadius(hull_box);
  // The colour statistics come from away from the edge, where the warp may sample background; the same
  // erosion is the feather's inner core.
  const cv::Mat distance = MaskDistance(hard);
  const cv::Mat inner = ErodeDisc(hard, radius, distance);
  // Only pixels inside `hard` can change: colour and blend work on its bounding box alone.
  const cv::Rect box = cv::boundingRect(hard);
  if (box.empty()) return;
  const cv::Mat stats_mask = cv::countNonZero(inner(box)) > 0 ? inner(box) : hard(box);
  const cv::Mat face = TransferColor(warped(box), roi(box), stats_mask);
  if (timings != nullptr) timings->warp_ms += watch.LapMs();

  if (blend == ClassicBlend::kPoisson) {
    BlendPoisson(face, hard(box), roi, box);
  } else {
    cv::Mat roi_box = roi(box);
    BlendFeather(face, FeatherMask(hard, radius, distance)(box), roi_box);
  }
  if (timings != nullptr) timings->blend_ms += watch.LapMs();
}

}  // namespace facefleet::pipeline
