#include "pipeline/face_selector.hpp"

#include <gtest/gtest.h>

namespace facefleet::pipeline {
namespace {

Face MakeFace(float x, float y, float size, float score) {
  Face face;
  face.box = {x, y, size, size};
  face.score = score;
  return face;
}

// Three faces: A left/top/small/best, B middle/bottom/large/worst, C right/middle-height/medium/middle.
std::vector<Face> Faces() {
  return {MakeFace(200, 50, 80, 1.0F), MakeFace(10, 300, 150, 2.5F), MakeFace(400, 150, 100, 0.2F)};
}

std::vector<float> Xs(const std::vector<Face>& faces) {
  std::vector<float> xs;
  for (const auto& f : faces) xs.push_back(f.box.x);
  return xs;
}

TEST(FaceSelectorTest, EveryOrderSortsAsNamed) {
  const std::vector<std::pair<FaceSelectorOrder, std::vector<float>>> cases = {
      {FaceSelectorOrder::kLeftRight, {10, 200, 400}},  {FaceSelectorOrder::kRightLeft, {400, 200, 10}},
      {FaceSelectorOrder::kTopBottom, {200, 400, 10}},  {FaceSelectorOrder::kBottomTop, {10, 400, 200}},
      {FaceSelectorOrder::kSmallLarge, {200, 400, 10}}, {FaceSelectorOrder::kLargeSmall, {10, 400, 200}},
      {FaceSelectorOrder::kBestWorst, {10, 200, 400}},  {FaceSelectorOrder::kWorstBest, {400, 200, 10}},
  };
  for (const auto& [order, expected] : cases) {
    auto faces = Faces();
    SortFaces(faces, order);
    EXPECT_EQ(Xs(faces), expected) << static_cast<int>(order);
  }
}

TEST(FaceSelectorTest, ModesPickOneManyOrTheReferencePosition) {
  auto one = SelectFaces(Faces(), FaceSelectorMode::kOne, FaceSelectorOrder::kLeftRight, 0);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(Xs(*one), std::vector<float>{10});
  auto many = SelectFaces(Faces(), FaceSelectorMode::kMany, FaceSelectorOrder::kRightLeft, 0);
  EXPECT_EQ(Xs(*many), (std::vector<float>{400, 200, 10}));
  auto reference = SelectFaces(Faces(), FaceSelectorMode::kReference, FaceSelectorOrder::kLeftRight, 2);
  EXPECT_EQ(Xs(*reference), std::vector<float>{400});
}

TEST(FaceSelectorTest, ErrorsForNoFacesAndOutOfRangePosition) {
  EXPECT_EQ(SelectFaces({}, FaceSelectorMode::kMany, FaceSelectorOrder::kLeftRight, 0).status().code(),
            ErrorCode::kNoFace);
  auto bad = SelectFaces(Faces(), FaceSelectorMode::kReference, FaceSelectorOrder::kLeftRight, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kUsage);
  EXPECT_NE(bad.status().message().find("has 3 face(s)"), std::string::npos);
}

TEST(FaceSelectorTest, LargestFace) { EXPECT_EQ(LargestFace(Faces()).box.x, 10); }

}  // namespace
}  // namespace facefleet::pipeline
