#include "pipeline/color_transfer.hpp"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace facefleet::pipeline {

cv::Mat TransferColor(const cv::Mat& source, const cv::Mat& reference, const cv::Mat& mask) {
  if (cv::countNonZero(mask) == 0) return source.clone();
  cv::Mat src_lab;
  cv::Mat ref_lab;
  source.convertTo(src_lab, CV_32F, 1.0 / 255.0);
  cv::cvtColor(src_lab, src_lab, cv::COLOR_BGR2Lab);
  // The reference is needed for its statistics only: convert just the mask's bounding box (float Lab is the
  // costliest step here).
  const cv::Rect stats = cv::boundingRect(mask);
  reference(stats).convertTo(ref_lab, CV_32F, 1.0 / 255.0);
  cv::cvtColor(ref_lab, ref_lab, cv::COLOR_BGR2Lab);
  cv::Scalar src_mean;
  cv::Scalar src_std;
  cv::Scalar ref_mean;
  cv::Scalar ref_std;
  cv::meanStdDev(src_lab(stats), src_mean, src_std, mask(stats));
  cv::meanStdDev(ref_lab, ref_mean, ref_std, mask(stats));
  std::vector<cv::Mat> channels;
  cv::split(src_lab, channels);
  for (int c = 0; c < 3; ++c) {
    const double gain = std::clamp(src_std[c] > 1e-6 ? ref_std[c] / src_std[c] : 1.0, 0.5, 2.0);
    channels[c].convertTo(channels[c], CV_32F, gain, ref_mean[c] - gain * src_mean[c]);
  }
  cv::merge(channels, src_lab);
  cv::cvtColor(src_lab, src_lab, cv::COLOR_Lab2BGR);
  cv::Mat out;
  src_lab.convertTo(out, CV_8U, 255.0);
  return out;
}

}  // namespace facefleet::pipeline
