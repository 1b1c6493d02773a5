// Classic swap quality on real photos (public-domain samples from Debian, see samples/README.md).
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "facefleet/engine.hpp"
#include "pipeline/classic_swapper.hpp"
#include "pipeline/face_selector.hpp"
#include "pipeline/geometry.hpp"
#include "support/test_support.hpp"

namespace facefleet {
namespace {

using testing::LoadBgr;
using testing::SharedEngine;
using testing::ToImage;
using testing::ToMat;

Face LargestFaceOf(const cv::Mat& image) {
  auto faces = SharedEngine().Analyze(ToImage(image));
  EXPECT_TRUE(faces.ok() && !faces->empty());
  return pipeline::LargestFace(*faces);
}

cv::Mat Morph(const cv::Mat& mask, int op, int radius) {
  cv::Mat out;
  cv::morphologyEx(mask, out, op,
                   cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1)));
  return out;
}

struct Direction {
  const char* name;
  std::string source;
  std::string target;
};

class SwapDirectionTest : public ::testing::TestWithParam<Direction> {};

TEST_P(SwapDirectionTest, ReplacesTheFaceAndNothingElse) {
  const cv::Mat source = LoadBgr(GetParam().source);
  const cv::Mat target = LoadBgr(GetParam().target);
  const std::vector<Image> sources = {ToImage(source)};
  SwapReport report;
  auto swapped = SharedEngine().Swap(sources, ToImage(target), SwapOptions{}, &report);
  ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
  const cv::Mat out = ToMat(*swapped);
  EXPECT_EQ(report.swapped_faces, 1);

  // (a) same size as the target.
  ASSERT_EQ(out.size(), target.size());
  ASSERT_EQ(out.type(), target.type());

  // (b) outside the dilated target face hull nothing changes.
  const Face target_face = LargestFaceOf(target);
  const cv::Mat hull = pipeline::TargetFaceMask(target_face, target.size());
  const cv::Mat outside = Morph(hull, cv::MORPH_DILATE, 3) == 0;
  EXPECT_GE(testing::Psnr(out, target, outside), 40.0);

  // (c) inside the hull the output follows the warped source face, not the original target.
  const Face source_face = LargestFaceOf(source);
  const auto target_points = pipeline::ToCv(target_face.landmark68);
  cv::Mat coverage;
  const cv::Mat warped = pipeline::WarpPiecewiseAffine(source, pipeline::ToCv(source_face.landmark68), target_points,
                                                       pipeline::Triangulate(target_points), target.size(), coverage);
  const cv::Mat inner = Morph(hull & coverage, cv::MORPH_ERODE, 8);
  const double to_source = testing::Ncc(out, warped, inner);
  const double to_target = testing::Ncc(out, target, inner);
  EXPECT_GT(to_source, 0.8) << "output should look like the warped source";
  EXPECT_GT(to_source, to_target + 0.1) << "source " << to_source << " vs target " << to_target;

  // (d) the pose is kept: landmarks re-detected on the output stay near the target's.
  const Face again = LargestFaceOf(out);
  double total = 0;
  for (int i = 0; i < 68; ++i) {
    total += std::hypot(again.landmark68[i].x - target_face.landmark68[i].x,
                        again.landmark68[i].y - target_face.landmark68[i].y);
  }
  const double face_width = target_face.box.width;
  EXPECT_LT(total / 68, std::max(4.0, 0.03 * face_width)) << "mean landmark shift in px";
}

INSTANTIATE_TEST_SUITE_P(
    RealPhotos, SwapDirectionTest,
    ::testing::Values(Direction{"grace_into_astronaut", testing::GracePath(), testing::AstronautPath()},
                      Direction{"astronaut_into_grace", testing::AstronautPath(), testing::GracePath()}),
    [](const ::testing::TestParamInfo<Direction>& param) { return std::string(param.param.name); });

// Two faces side by side: the astronaut (left) and her mirror image (right); the source is Grace Hopper.
class TwoFaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const cv::Mat astronaut = LoadBgr(testing::AstronautPath());
    composite_ = cv::Mat(astronaut.rows, astronaut.cols * 2, CV_8UC3);
    astronaut.copyTo(composite_(cv::Rect(0, 0, astronaut.cols, astronaut.rows)));
    cv::flip(astronaut, composite_(cv::Rect(astronaut.cols, 0, astronaut.cols, astronaut.rows)), 1);
    auto faces = SharedEngine().Analyze(ToImage(composite_));
    ASSERT_TRUE(faces.ok());
    ASSERT_EQ(faces->size(), 2U);
    pipeline::SortFaces(*faces, FaceSelectorOrder::kLeftRight);
    left_ = pipeline::TargetFaceMask((*faces)[0], composite_.size());
    right_ = pipeline::TargetFaceMask((*faces)[1], composite_.size());
  }

  // Which faces changed: {left changed, right changed}. Unchanged means bit-identical inside the hull.
  std::pair<bool, bool> Changed(const SwapOptions& options) {
    const std::vector<Image> sources = {ToImage(LoadBgr(testing::GracePath()))};
    auto swapped = SharedEngine().Swap(sources, ToImage(composite_), options);
    EXPECT_TRUE(swapped.ok()) << swapped.status().ToString();
    if (!swapped.ok()) return {false, false};
    const cv::Mat out = ToMat(*swapped);
    cv::Mat diff;
    cv::absdiff(out, composite_, diff);
    cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
    return {cv::mean(diff, left_)[0] > 5.0, cv::mean(diff, right_)[0] > 5.0};
  }

  cv::Mat composite_;
  cv::Mat left_;
  cv::Mat right_;
};

TEST_F(TwoFaceTest, SelectorModesChooseTheRightFaces) {
  SwapOptions options;
  options.face_selector_mode = FaceSelectorMode::kOne;
  options.face_selector_order = FaceSelectorOrder::kLeftRight;
  EXPECT_EQ(Changed(options), std::make_pair(true, false));
  options.face_selector_order = FaceSelectorOrder::kRightLeft;
  EXPECT_EQ(Changed(options), std::make_pair(false, true));
  options.face_selector_mode = FaceSelectorMode::kMany;
  EXPECT_EQ(Changed(options), std::make_pair(true, true));
  options.face_selector_mode = FaceSelectorMode::kReference;
  options.face_selector_order = FaceSelectorOrder::kLeftRight;
  options.reference_face_position = 1;
  EXPECT_EQ(Changed(options), std::make_pair(false, true));
  options.reference_face_position = 0;
  EXPECT_EQ(Changed(options), std::make_pair(true, false));
}

TEST_F(TwoFaceTest, ReferencePositionPastTheFacesIsAUsageError) {
  SwapOptions options;
  options.reference_face_position = 2;
  const std::vector<Image> sources = {ToImage(LoadBgr(testing::GracePath()))};
  auto swapped = SharedEngine().Swap(sources, ToImage(composite_), options);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.status().code(), ErrorCode::kUsage);
}

TEST(SwapTest, SeveralSourcesAreAveraged) {
  const cv::Mat grace = LoadBgr(testing::GracePath());
  const cv::Mat astronaut = LoadBgr(testing::AstronautPath());
  cv::Mat target;
  cv::flip(astronaut, target, 1);
  const auto swap = [&](std::vector<Image> sources) {
    auto out = SharedEngine().Swap(sources, ToImage(target), SwapOptions{});
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return ToMat(*out);
  };
  const cv::Mat only_grace = swap({ToImage(grace)});
  const cv::Mat only_astronaut = swap({ToImage(astronaut)});
  const cv::Mat both = swap({ToImage(grace), ToImage(astronaut)});
  const cv::Mat hull = pipeline::TargetFaceMask(LargestFaceOf(target), target.size());
  const cv::Mat inner = Morph(hull, cv::MORPH_ERODE, 8);
  // The average lies between the two: closer to each than they are to each other.
  const double between = cv::norm(only_grace, only_astronaut, cv::NORM_L2, inner);
  EXPECT_LT(cv::norm(both, only_grace, cv::NORM_L2, inner), between);
  EXPECT_LT(cv::norm(both, only_astronaut, cv::NORM_L2, inner), between);
  EXPECT_GT(cv::norm(both, only_grace, cv::NORM_L2, inner), 0.1 * between);
}

TEST(SwapTest, PoissonBlendAlsoKeepsEverythingOutsideTheFace) {
  const cv::Mat target = LoadBgr(testing::AstronautPath());
  SwapOptions options;
  options.classic_blend = ClassicBlend::kPoisson;
  const std::vector<Image> sources = {ToImage(LoadBgr(testing::GracePath()))};
  auto swapped = SharedEngine().Swap(sources, ToImage(target), options);
  ASSERT_TRUE(swapped.ok());
  const cv::Mat hull = pipeline::TargetFaceMask(LargestFaceOf(target), target.size());
  EXPECT_GE(testing::Psnr(ToMat(*swapped), target, Morph(hull, cv::MORPH_DILATE, 3) == 0), 40.0);
  EXPECT_GT(cv::norm(ToMat(*swapped), target, cv::NORM_L1, hull), 0);
}

TEST(SwapTest, TargetAlphaChannelIsKeptExactly) {
  const cv::Mat astronaut = LoadBgr(testing::AstronautPath());
  cv::Mat bgra;
  cv::cvtColor(astronaut, bgra, cv::COLOR_BGR2BGRA);
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) bgra.at<cv::Vec4b>(y, x)[3] = static_cast<std::uint8_t>((x + y) % 256);
  }
  const std::vector<Image> sources = {ToImage(LoadBgr(testing::GracePath()))};
  auto swapped = SharedEngine().Swap(sources, ToImage(bgra), SwapOptions{});
  ASSERT_TRUE(swapped.ok());
  ASSERT_EQ(swapped->channels, 4);
  std::vector<cv::Mat> in_planes;
  std::vector<cv::Mat> out_planes;
  cv::split(bgra, in_planes);
  cv::split(ToMat(*swapped), out_planes);
  EXPECT_EQ(cv::norm(in_planes[3], out_planes[3], cv::NORM_INF), 0);
}

TEST(SwapTest, NoFaceInTargetIsReported) {
  cv::Mat blank(300, 300, CV_8UC3);
  cv::randu(blank, 0, 40);
  const std::vector<Image> sources = {ToImage(LoadBgr(testing::GracePath()))};
  auto swapped = SharedEngine().Swap(sources, ToImage(blank), SwapOptions{});
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.status().code(), ErrorCode::kNoFace);
  EXPECT_NE(swapped.status().message().find("target"), std::string::npos);
}

}  // namespace
}  // namespace facefleet
