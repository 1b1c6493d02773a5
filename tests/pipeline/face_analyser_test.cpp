#include "pipeline/face_analyser.hpp"

#include <gtest/gtest.h>

namespace facefleet::pipeline {
namespace {

TEST(Landmark5Test, DerivedFromHandPlacedSixtyEightPoints) {
  models::Landmarks68 points{};
  for (int i = 36; i < 42; ++i) points[i] = {10.0F + static_cast<float>(i - 36), 20.0F};  // left eye 10..15
  for (int i = 42; i < 48; ++i) points[i] = {40.0F, 18.0F + static_cast<float>(i - 42)};  // right eye y 18..23
  points[30] = {27, 35};
  points[48] = {15, 50};
  points[54] = {39, 51};
  const auto five = Landmark5From68(points);
  EXPECT_FLOAT_EQ(five[kLeftEye].x, 12.5F);
  EXPECT_FLOAT_EQ(five[kLeftEye].y, 20.0F);
  EXPECT_FLOAT_EQ(five[kRightEye].x, 40.0F);
  EXPECT_FLOAT_EQ(five[kRightEye].y, 20.5F);
  EXPECT_FLOAT_EQ(five[kNoseTip].x, 27);
  EXPECT_FLOAT_EQ(five[kMouthLeft].y, 50);
  EXPECT_FLOAT_EQ(five[kMouthRight].x, 39);
}

}  // namespace
}  // namespace facefleet::pipeline
