#include "pipeline/classic_swapper.hpp"

#include <algorithm>
#include <cmath>

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

void BlendFeather(const cv::Mat& face, const cv::Mat& hard_mask, int radius, cv::Mat& roi) {
  const cv::Mat alpha = FeatherMask(hard_mask, radius);
  cv::Mat alpha3;
  cv::merge(std::vector<cv::Mat>{alpha, alpha, alpha}, alpha3);
  cv::Mat face_f;
  cv::Mat roi_f;
  face.convertTo(face_f, CV_32FC3);
  roi.convertTo(roi_f, CV_32FC3);
  cv::Mat mixed = roi_f + alpha3.mul(face_f - roi_f);
  mixed.convertTo(roi, CV_8UC3);  // rounds; pixels with alpha 0 come back unchanged
}

void BlendPoisson(const cv::Mat& face, const cv::Mat& hard_mask, cv::Mat& roi) {
  // seamlessClone must not touch the ROI border; erode by 2 px so the mask stays inside.
  cv::Mat mask;
  cv::erode(hard_mask, mask, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)));
  const cv::Rect box = cv::boundingRect(mask);
  if (box.empty()) return;
  const cv::Point center(box.x + box.width / 2, box.y + box.height / 2);
  cv::Mat out;
  cv::seamlessClone(face, roi, mask, center, out, cv::NORMAL_CLONE);
  out.copyTo(roi, mask);
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
  cv::Mat inner;  // colour statistics away from the edge, where the warp may sample background
  cv::erode(hard, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1)));
  const cv::Mat face = TransferColor(warped, roi, cv::countNonZero(inner) > 0 ? inner : hard);
  if (timings != nullptr) timings->warp_ms += watch.LapMs();

  if (blend == ClassicBlend::kPoisson) {
    BlendPoisson(face, hard, roi);
  } else {
    BlendFeather(face, hard, radius, roi);
  }
  if (timings != nullptr) timings->blend_ms += watch.LapMs();
}

}  // namespace facefleet::pipeline
