#include "pipeline/color_transfer.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace facefleet::pipeline {
namespace {

// After transfer the source's mean colour inside the mask equals the reference's (within rounding), while
// the source's texture (its relative contrast) survives.
TEST(ColorTransferTest, MatchesMeanColourInsideMask) {
  cv::Mat source(60, 60, CV_8UC3);
  cv::randu(source, cv::Scalar(60, 90, 150), cv::Scalar(100, 130, 190));  // warm skin-like noise
  const cv::Mat reference(60, 60, CV_8UC3, cv::Scalar(40, 60, 90));
  cv::Mat noisy_reference = reference.clone();
  cv::randn(noisy_reference, cv::Scalar(140, 120, 100), cv::Scalar(8, 8, 8));  // cooler, darker
  cv::Mat mask = cv::Mat::zeros(60, 60, CV_8U);
  mask(cv::Rect(10, 10, 40, 40)).setTo(255);
  const cv::Mat out = TransferColor(source, noisy_reference, mask);
  const cv::Scalar out_mean = cv::mean(out, mask);
  const cv::Scalar ref_mean = cv::mean(noisy_reference, mask);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(out_mean[c], ref_mean[c], 3.0) << "channel " << c;
  // Structure kept: the output still correlates with the source pattern.
  cv::Mat a;
  cv::Mat b;
  cv::cvtColor(source, a, cv::COLOR_BGR2GRAY);
  cv::cvtColor(out, b, cv::COLOR_BGR2GRAY);
  cv::Mat corr;
  cv::matchTemplate(a(cv::Rect(10, 10, 40, 40)), b(cv::Rect(10, 10, 40, 40)), corr, cv::TM_CCOEFF_NORMED);
  EXPECT_GT(corr.at<float>(0, 0), 0.8F);
}

TEST(ColorTransferTest, EmptyMaskLeavesSourceUnchanged) {
  cv::Mat source(10, 10, CV_8UC3, cv::Scalar(1, 2, 3));
  const cv::Mat out =
      TransferColor(source, cv::Mat(10, 10, CV_8UC3, cv::Scalar(200, 200, 200)), cv::Mat::zeros(10, 10, CV_8U));
  EXPECT_EQ(cv::norm(out, source, cv::NORM_INF), 0);
}

}  // namespace
}  // namespace facefleet::pipeline
