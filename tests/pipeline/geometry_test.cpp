#include "pipeline/geometry.hpp"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace facefleet::pipeline {
namespace {

std::set<std::set<int>> AsSets(const std::vector<Triangle>& triangles) {
  std::set<std::set<int>> out;
  for (const auto& t : triangles) out.insert({t[0], t[1], t[2]});
  return out;
}

// Twice the signed area; positive = counter-clockwise in image coordinates (y down).
float SignedArea2(const std::vector<cv::Point2f>& p, const Triangle& t) {
  return (p[t[1]].x - p[t[0]].x) * (p[t[2]].y - p[t[0]].y) - (p[t[1]].y - p[t[0]].y) * (p[t[2]].x - p[t[0]].x);
}

TEST(TriangulateTest, PointInsideTriangleGivesThreeTriangles) {
  const std::vector<cv::Point2f> points = {{0, 0}, {10, 0}, {5, 10}, {5, 4}};
  const auto triangles = Triangulate(points);
  EXPECT_EQ(AsSets(triangles), (std::set<std::set<int>>{{0, 1, 3}, {1, 2, 3}, {0, 2, 3}}));
  for (const auto& t : triangles) EXPECT_GT(SignedArea2(points, t), 0);
}

// Quad (0,0) (10,0) (10,4) (0,5). Diagonal 0-2 leaves opposite angles 90 deg (at 1) + acos(1/sqrt(101)) =
// 84.3 deg (at 3) = 174.3 < 180, so it is the Delaunay one; diagonal 1-3 would give 90 + 95.7 > 180.
TEST(TriangulateTest, QuadUsesDelaunayDiagonal) {
  const std::vector<cv::Point2f> points = {{0, 0}, {10, 0}, {10, 4}, {0, 5}};
  const auto triangles = Triangulate(points);
  EXPECT_EQ(AsSets(triangles), (std::set<std::set<int>>{{0, 1, 2}, {0, 2, 3}}));
}

TEST(TriangulateTest, EmptyCircumcircleOnRandomPoints) {
  cv::RNG rng(42);
  std::vector<cv::Point2f> points;
  for (int i = 0; i < 68; ++i) points.emplace_back(rng.uniform(0.F, 300.F), rng.uniform(0.F, 300.F));
  const auto triangles = Triangulate(points);
  // Euler: a triangulation of n points with h on the hull has 2n - 2 - h triangles.
  std::vector<cv::Point2f> hull;
  cv::convexHull(points, hull);
  EXPECT_EQ(triangles.size(), 2 * points.size() - 2 - hull.size());
  for (const auto& t : triangles) {
    const cv::Point2f a = points[t[0]], b = points[t[1]], c = points[t[2]];
    const double d = 2.0 * (a.x * (b.y - c.y) + b.x * (c.y - a.y) + c.x * (a.y - b.y));
    const double ux = ((a.dot(a)) * (b.y - c.y) + (b.dot(b)) * (c.y - a.y) + (c.dot(c)) * (a.y - b.y)) / d;
    const double uy = ((a.dot(a)) * (c.x - b.x) + (b.dot(b)) * (a.x - c.x) + (c.dot(c)) * (b.x - a.x)) / d;
    const double r2 = (a.x - ux) * (a.x - ux) + (a.y - uy) * (a.y - uy);
    for (int i = 0; i < static_cast<int>(points.size()); ++i) {
      if (i == t[0] || i == t[1] || i == t[2]) continue;
      const double d2 = (points[i].x - ux) * (points[i].x - ux) + (points[i].y - uy) * (points[i].y - uy);
      EXPECT_GE(d2, r2 * (1 - 1e-6)) << "point " << i << " inside a circumcircle";
    }
  }
}

TEST(TriangulateTest, DegenerateInputGivesNothing) {
  EXPECT_TRUE(Triangulate(std::vector<cv::Point2f>{{0, 0}, {1, 1}}).empty());
  EXPECT_TRUE(Triangulate(std::vector<cv::Point2f>{{0, 0}, {1, 1}, {2, 2}, {3, 3}}).empty());
}

// A pure translation by (+20, +10): every pixel inside the destination triangle equals the source pixel
// 20 left and 10 up; nothing outside the triangle is written.
TEST(WarpTest, TriangleTranslationMovesPixelsExactly) {
  cv::Mat src(64, 64, CV_8UC3);
  cv::randu(src, 0, 255);
  cv::Mat dst = cv::Mat::zeros(64, 64, CV_8UC3);
  cv::Mat coverage = cv::Mat::zeros(64, 64, CV_8U);
  WarpTriangle(src, dst, {cv::Point2f(2, 2), cv::Point2f(30, 2), cv::Point2f(2, 30)},
               {cv::Point2f(22, 12), cv::Point2f(50, 12), cv::Point2f(22, 40)}, coverage);
  EXPECT_EQ(dst.at<cv::Vec3b>(15, 25), src.at<cv::Vec3b>(5, 5));
  EXPECT_EQ(dst.at<cv::Vec3b>(20, 30), src.at<cv::Vec3b>(10, 10));
  EXPECT_EQ(coverage.at<std::uint8_t>(15, 25), 255);
  EXPECT_EQ(coverage.at<std::uint8_t>(38, 48), 0);  // beyond the hypotenuse
  EXPECT_EQ(dst.at<cv::Vec3b>(38, 48), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(coverage.at<std::uint8_t>(5, 5), 0);
}

// Scaling by 2 about the origin: destination pixel (2x, 2y) samples source (x, y).
TEST(WarpTest, PiecewiseAffineScaleSamplesHandComputedPositions) {
  cv::Mat src(40, 40, CV_8UC1);
  for (int y = 0; y < 40; ++y) {
    for (int x = 0; x < 40; ++x) src.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(x + 4 * y);
  }
  const std::vector<cv::Point2f> from = {{0, 0}, {30, 0}, {30, 30}, {0, 30}, {15, 15}};
  std::vector<cv::Point2f> to;
  for (const auto& p : from) to.push_back(p * 2);
  cv::Mat coverage;
  const cv::Mat out = WarpPiecewiseAffine(src, from, to, Triangulate(to), cv::Size(80, 80), coverage);
  EXPECT_EQ(out.at<std::uint8_t>(20, 10), src.at<std::uint8_t>(10, 5));  // (x=10,y=20) <- (5,10)
  EXPECT_EQ(out.at<std::uint8_t>(40, 44), src.at<std::uint8_t>(20, 22));
  EXPECT_EQ(coverage.at<std::uint8_t>(70, 70), 0);  // outside the warped square
}

TEST(MaskTest, HullMaskAreaOfSquare) {
  const std::vector<cv::Point2f> square = {{10, 10}, {29, 10}, {29, 29}, {10, 29}, {20, 20}};
  const cv::Mat mask = HullMask(square, cv::Size(40, 40));
  EXPECT_EQ(cv::countNonZero(mask), 20 * 20);
  EXPECT_EQ(mask.at<std::uint8_t>(10, 10), 255);
  EXPECT_EQ(mask.at<std::uint8_t>(9, 10), 0);
}

TEST(MaskTest, FeatherIsZeroOutsideOneDeepInsideAndRampsAtTheEdge) {
  cv::Mat hard = cv::Mat::zeros(100, 100, CV_8U);
  hard(cv::Rect(20, 20, 60, 60)).setTo(255);
  cv::Mat outside = FeatherMask(hard, 6);
  outside.setTo(0, hard != 0);
  EXPECT_EQ(cv::countNonZero(outside != 0), 0) << "mask leaks outside the hard region";
  const cv::Mat again = FeatherMask(hard, 6);
  EXPECT_FLOAT_EQ(again.at<float>(50, 50), 1.0F);
  EXPECT_LT(again.at<float>(50, 20), 0.05F);  // on the edge
  float previous = -1;
  for (int x = 20; x <= 40; ++x) {  // non-decreasing from the edge inwards
    EXPECT_GE(again.at<float>(50, x), previous - 1e-6F);
    previous = again.at<float>(50, x);
  }
}

}  // namespace
}  // namespace facefleet::pipeline
