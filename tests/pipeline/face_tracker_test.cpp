// FaceTracker (IoU matching, interpolation between keyframes, coasting through misses), OneEuroFilter and the
// jitter metric, against hand-computed values.
#include "pipeline/face_tracker.hpp"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

namespace facefleet::pipeline {
namespace {

Face FaceAt(float x, float y, float size) {
  Face f;
  f.box = {x, y, size, size};
  f.has_landmark68 = true;
  for (std::size_t i = 0; i < f.landmark68.size(); ++i) f.landmark68[i] = {x + static_cast<float>(i), y};
  for (std::size_t i = 0; i < f.landmark5.size(); ++i) f.landmark5[i] = {x, y + static_cast<float>(i)};
  return f;
}

void ExpectBox(const Box& b, float x, float y, float w, float h) {
  EXPECT_FLOAT_EQ(b.x, x);
  EXPECT_FLOAT_EQ(b.y, y);
  EXPECT_FLOAT_EQ(b.width, w);
  EXPECT_FLOAT_EQ(b.height, h);
}

TEST(FaceTrackerTest, IouOfHandPlacedBoxes) {
  EXPECT_FLOAT_EQ(BoxIou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0F / 150.0F);
  EXPECT_FLOAT_EQ(BoxIou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0F);
  EXPECT_FLOAT_EQ(BoxIou({0, 0, 10, 10}, {10, 0, 10, 10}), 0.0F) << "touching edges do not overlap";
  EXPECT_FLOAT_EQ(BoxIou({0, 0, 0, 0}, {0, 0, 10, 10}), 0.0F);
}

TEST(FaceTrackerTest, MatchesByBestOverlapEachFaceOnce) {
  const std::vector<Box> previous = {{0, 0, 10, 10}, {100, 0, 10, 10}};
  // Reversed order, both moved a little; a third face far from both.
  const std::vector<Box> current = {{102, 0, 10, 10}, {1, 0, 10, 10}, {50, 50, 10, 10}};
  EXPECT_EQ(MatchByIou(previous, current, 0.3F), (std::vector<int>{1, 0, -1}));
  // Two candidates for one previous face: the better overlap (IoU 0.82 vs 0.43) wins, the other is new.
  EXPECT_EQ(MatchByIou(std::vector<Box>{{0, 0, 10, 10}}, std::vector<Box>{{4, 0, 10, 10}, {1, 0, 10, 10}}, 0.3F),
            (std::vector<int>{-1, 0}));
  EXPECT_EQ(MatchByIou(previous, std::vector<Box>{{6, 0, 10, 10}}, 0.3F), (std::vector<int>{-1}))
      << "IoU 4/16 = 0.25 is below the threshold";
}

TEST(FaceTrackerTest, InterpolatesBoxAndLandmarksBetweenKeyframes) {
  FaceTracker tracker;
  const auto k0 = tracker.AddKeyframe(0, {FaceAt(0, 0, 10)});
  ASSERT_EQ(k0.size(), 1U);
  EXPECT_TRUE(tracker.Between(1).empty()) << "nothing before the second keyframe";
  const auto k4 = tracker.AddKeyframe(4, {FaceAt(4, 0, 12)});
  ASSERT_EQ(k4.size(), 1U);
  EXPECT_EQ(k4[0].track_id, k0[0].track_id) << "IoU 60/184 = 0.33 keeps the track";
  const auto f1 = tracker.Between(1);  // t = 1/4
  ASSERT_EQ(f1.size(), 1U);
  EXPECT_EQ(f1[0].track_id, k0[0].track_id);
  ExpectBox(f1[0].face.box, 1, 0, 10.5F, 10.5F);
  EXPECT_FLOAT_EQ(f1[0].face.landmark68[0].x, 1);
  EXPECT_FLOAT_EQ(f1[0].face.landmark68[10].x, 11);
  EXPECT_FLOAT_EQ(f1[0].face.landmark5[3].x, 1);
  EXPECT_FLOAT_EQ(f1[0].face.landmark5[3].y, 3);
  const auto f3 = tracker.Between(3);  // t = 3/4
  ASSERT_EQ(f3.size(), 1U);
  ExpectBox(f3[0].face.box, 3, 0, 11.5F, 11.5F);
  const auto k8 = tracker.AddKeyframe(8, {FaceAt(40, 0, 12)});  // no overlap: a new track; the old one coasts
  ASSERT_EQ(k8.size(), 2U);
  EXPECT_NE(k8[0].track_id, k0[0].track_id);
  const auto f6 = tracker.Between(6);
  ASSERT_EQ(f6.size(), 1U) << "the new face starts at its detection";
  EXPECT_EQ(f6[0].track_id, k0[0].track_id);
  ExpectBox(f6[0].face.box, 4, 0, 12, 12);
  EXPECT_TRUE(tracker.Between(8).empty() && tracker.Between(4).empty()) << "keyframes are not 'between'";
}

TEST(FaceTrackerTest, CoastsThroughOneMissAndInterpolatesFromTheHeldFace) {
  FaceTracker tracker;
  const int id = tracker.AddKeyframe(0, {FaceAt(8, 4, 14)})[0].track_id;
  const auto missed = tracker.AddKeyframe(4, {});  // the detector missed the face
  ASSERT_EQ(missed.size(), 1U) << "carried at its last position";
  EXPECT_EQ(missed[0].track_id, id);
  ExpectBox(missed[0].face.box, 8, 4, 14, 14);
  ExpectBox(tracker.Between(2)[0].face.box, 8, 4, 14, 14);
  const auto found = tracker.AddKeyframe(8, {FaceAt(10, 4, 14), FaceAt(200, 200, 20)});  // IoU 0.75 + a new face
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[0].track_id, id);
  EXPECT_NE(found[1].track_id, id);
  const auto mid = tracker.Between(6);  // t = 1/2 from the coasted (8, 4) to (10, 4); the new face not yet
  ASSERT_EQ(mid.size(), 1U);
  ExpectBox(mid[0].face.box, 9, 4, 14, 14);
  EXPECT_EQ(tracker.AddKeyframe(12, {}).size(), 2U) << "both coast once";
  EXPECT_TRUE(tracker.AddKeyframe(16, {}).empty()) << "a second miss in a row drops the tracks";
  EXPECT_TRUE(tracker.Between(14).empty());
}

TEST(OneEuroFilterTest, StepResponseMatchesHandComputedValues) {
  // dt = 1/(2π) makes alpha(fc) = 1 / (1 + 1/fc): alpha(1) = 1/2, alpha(2) = 2/3.
  const double dt = 1 / (2 * std::numbers::pi);
  OneEuroFilter plain(1.0, 0.0, 1.0);  // beta 0: a fixed first-order low-pass at 1 Hz
  EXPECT_DOUBLE_EQ(plain.Filter(0, dt), 0);
  EXPECT_DOUBLE_EQ(plain.Filter(1, dt), 0.5);
  EXPECT_DOUBLE_EQ(plain.Filter(1, dt), 0.75);
  EXPECT_DOUBLE_EQ(plain.Filter(1, dt), 0.875);
  // beta 1/π: dx = 1/dt = 2π, dx̂ = alpha(1)·2π = π, cutoff = 1 + π/π = 2, x̂ = alpha(2)·1 = 2/3.
  OneEuroFilter adaptive(1.0, 1 / std::numbers::pi, 1.0);
  adaptive.Filter(0, dt);
  EXPECT_NEAR(adaptive.Filter(1, dt), 2.0 / 3.0, 1e-12) << "speed raises the cutoff: faster than the plain filter";
}

TEST(OneEuroFilterTest, ConstantInputStaysConstant) {
  OneEuroFilter filter(LandmarkSmoother::kMinCutoffHz, LandmarkSmoother::kBeta, LandmarkSmoother::kDerivativeCutoffHz);
  for (int i = 0; i < 50; ++i) EXPECT_DOUBLE_EQ(filter.Filter(123.25, 0.04), 123.25);
}

TEST(OneEuroFilterTest, SmootherFiltersPerTrackAndForgetsLostTracks) {
  LandmarkSmoother smoother(25);
  std::vector<TrackedFace> faces = {{1, FaceAt(0, 0, 10)}};
  smoother.Smooth(faces);
  faces = {{1, FaceAt(2, 0, 10)}, {2, FaceAt(50, 0, 10)}};
  smoother.Smooth(faces);
  EXPECT_GT(faces[0].face.landmark68[0].x, 0);
  EXPECT_LT(faces[0].face.landmark68[0].x, 2) << "track 1 is smoothed towards its previous position";
  EXPECT_FLOAT_EQ(faces[1].face.landmark68[0].x, 50) << "a new track's first sample passes unchanged";
  faces = {{1, FaceAt(2, 0, 10)}};
  smoother.Smooth(faces);
  faces = {{2, FaceAt(60, 0, 10)}};
  smoother.Smooth(faces);
  EXPECT_FLOAT_EQ(faces[0].face.landmark68[0].x, 60) << "track 2 was lost for a frame and starts afresh";
}

TEST(JitterMetricTest, MeanFrameToFrameMotion) {
  const std::vector<std::vector<Point2>> frames = {
      {{0, 0}, {10, 0}}, {{3, 4}, {10, 0}}, {{3, 4}, {10, 2}}, {}, {{0, 0}}};
  // Pairs: (0,1): (5 + 0) / 2 = 2.5; (1,2): (0 + 2) / 2 = 1; the empty frame and the size change are skipped.
  EXPECT_DOUBLE_EQ(MeanLandmarkMotion(frames), 1.75);
  EXPECT_DOUBLE_EQ(MeanLandmarkMotion(std::span(frames).first(1)), 0);
}

}  // namespace
}  // namespace facefleet::pipeline
