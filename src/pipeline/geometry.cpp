#include "pipeline/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace facefleet::pipeline {
namespace {

float Cross(cv::Point2f o, cv::Point2f a, cv::Point2f b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// A triangle under construction with its circumcircle (centre, squared radius), in doubles.
struct Circumscribed {
  int a, b, c;
  double cx, cy, r2;
};

Circumscribed MakeTriangle(const std::vector<cv::Point2d>& p, int a, int b, int c) {
  const cv::Point2d pa = p[a], pb = p[b], pc = p[c];
  const double d = 2.0 * (pa.x * (pb.y - pc.y) + pb.x * (pc.y - pa.y) + pc.x * (pa.y - pb.y));
  if (std::abs(d) < 1e-12) return {a, b, c, 0, 0, -1};  // degenerate: contains nothing, removed at the end
  const double aa = pa.dot(pa), bb = pb.dot(pb), cc = pc.dot(pc);
  const double cx = (aa * (pb.y - pc.y) + bb * (pc.y - pa.y) + cc * (pa.y - pb.y)) / d;
  const double cy = (aa * (pc.x - pb.x) + bb * (pa.x - pc.x) + cc * (pb.x - pa.x)) / d;
  return {a, b, c, cx, cy, (pa.x - cx) * (pa.x - cx) + (pa.y - cy) * (pa.y - cy)};
}

// Bowyer-Watson: insert points one by one, re-triangulating the cavity of triangles whose circumcircle
// contains the new point. Coordinates are centred and a far "super triangle" bounds everything.
std::vector<Circumscribed> BowyerWatson(std::vector<cv::Point2d>& p, std::size_t n) {
  double extent = 1;
  for (std::size_t i = 0; i < n; ++i) extent = std::max({extent, std::abs(p[i].x), std::abs(p[i].y)});
  const double m = 1e4 * extent;
  p.emplace_back(-m, -m);
  p.emplace_back(m, -m);
  p.emplace_back(0, m);
  const int s = static_cast<int>(n);
  std::vector<Circumscribed> tris = {MakeTriangle(p, s, s + 1, s + 2)};
  for (int i = 0; i < s; ++i) {
    const bool duplicate = std::any_of(p.begin(), p.begin() + i, [&](const cv::Point2d& q) { return q == p[i]; });
    if (duplicate) continue;
    std::vector<std::pair<int, int>> edges;
    std::vector<Circumscribed> kept;
    for (const auto& t : tris) {
      const double dx = p[i].x - t.cx, dy = p[i].y - t.cy;
      if (dx * dx + dy * dy < t.r2) {
        edges.insert(edges.end(), {{t.a, t.b}, {t.b, t.c}, {t.c, t.a}});
      } else {
        kept.push_back(t);
      }
    }
    for (std::size_t e = 0; e < edges.size(); ++e) {  // the cavity boundary: edges used by one bad triangle
      const auto [u, v] = edges[e];
      const bool shared = std::any_of(edges.begin(), edges.end(), [&, u = u, v = v](const auto& o) {
        return &o != &edges[e] && ((o.first == u && o.second == v) || (o.first == v && o.second == u));
      });
      if (!shared) kept.push_back(MakeTriangle(p, u, v, i));
    }
    tris = std::move(kept);
  }
  return tris;
}

}  // namespace

std::vector<cv::Point2f> ToCv(std::span<const Point2> points) {
  std::vector<cv::Point2f> out;
  out.reserve(points.size());
  for (const Point2& p : points) out.emplace_back(p.x, p.y);
  return out;
}

std::vector<Triangle> Triangulate(std::span<const cv::Point2f> points) {
  if (points.size() < 3) return {};
  cv::Point2d centre;
  for (const auto& q : points) centre += cv::Point2d(q.x, q.y) / static_cast<double>(points.size());
  std::vector<cv::Point2d> p;
  p.reserve(points.size() + 3);
  for (const auto& q : points) p.emplace_back(q.x - centre.x, q.y - centre.y);
  const int n = static_cast<int>(points.size());
  std::vector<Triangle> triangles;
  for (const auto& t : BowyerWatson(p, points.size())) {
    if (t.a >= n || t.b >= n || t.c >= n || t.r2 < 0) continue;  // touches the super triangle
    Triangle tri{t.a, t.b, t.c};
    const float area2 = Cross(points[tri[0]], points[tri[1]], points[tri[2]]);
    if (std::abs(area2) < 1e-6F) continue;
    if (area2 < 0) std::swap(tri[1], tri[2]);
    triangles.push_back(tri);
  }
  return triangles;
}

void WarpTriangle(const cv::Mat& src, cv::Mat& dst, const std::array<cv::Point2f, 3>& src_tri,
                  const std::array<cv::Point2f, 3>& dst_tri, cv::Mat& coverage) {
  const cv::Rect box =
      cv::boundingRect(std::vector<cv::Point2f>(dst_tri.begin(), dst_tri.end())) & cv::Rect(0, 0, dst.cols, dst.rows);
  if (box.empty()) return;
  std::array<cv::Point2f, 3> local;
  std::array<cv::Point, 3> polygon;
  for (int i = 0; i < 3; ++i) {
    local[i] = dst_tri[i] - cv::Point2f(static_cast<float>(box.x), static_cast<float>(box.y));
    polygon[i] = cv::Point(static_cast<int>(std::lround(local[i].x)), static_cast<int>(std::lround(local[i].y)));
  }
  const cv::Mat affine = cv::getAffineTransform(src_tri.data(), local.data());
  cv::Mat patch;
  cv::warpAffine(src, patch, affine, box.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
  cv::Mat mask = cv::Mat::zeros(box.size(), CV_8U);
  cv::fillConvexPoly(mask, polygon.data(), 3, cv::Scalar(255));
  patch.copyTo(dst(box), mask);
  coverage(box).setTo(255, mask);
}

cv::Mat WarpPiecewiseAffine(const cv::Mat& src, std::span<const cv::Point2f> src_points,
                            std::span<const cv::Point2f> dst_points, std::span<const Triangle> triangles, cv::Size size,
                            cv::Mat& coverage) {
  cv::Mat dst = cv::Mat::zeros(size, src.type());
  coverage = cv::Mat::zeros(size, CV_8U);
  for (const Triangle& t : triangles) {
    WarpTriangle(src, dst, {src_points[t[0]], src_points[t[1]], src_points[t[2]]},
                 {dst_points[t[0]], dst_points[t[1]], dst_points[t[2]]}, coverage);
  }
  return dst;
}

cv::Mat HullMask(std::span<const cv::Point2f> points, cv::Size size) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  if (points.size() < 3) return mask;
  std::vector<cv::Point2f> hull;
  cv::convexHull(std::vector<cv::Point2f>(points.begin(), points.end()), hull);
  std::vector<cv::Point> polygon;
  polygon.reserve(hull.size());
  for (const auto& p : hull)
    polygon.emplace_back(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
  cv::fillConvexPoly(mask, polygon, cv::Scalar(255));
  return mask;
}

cv::Mat MaskDistance(const cv::Mat& hard) {
  cv::Mat distance(hard.size(), CV_32F, cv::Scalar(0));
  const cv::Rect box = cv::boundingRect(hard);
  if (box.empty()) return distance;
  // Around the set pixels' bounding box everything is unset: one pixel of it is all the transform needs, so
  // it runs on that box alone (a face's hull box is well under half of the region around it).
  const cv::Rect padded =
      cv::Rect(box.x - 1, box.y - 1, box.width + 2, box.height + 2) & cv::Rect(0, 0, hard.cols, hard.rows);
  cv::Mat part = distance(padded);  // distanceTransform writes through this header (same size and type)
  cv::distanceTransform(hard(padded), part, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  return distance;
}

cv::Mat ErodeDisc(const cv::Mat& hard, int radius, const cv::Mat& distance) {
  cv::Mat eroded;
  if (radius <= 0) return hard.clone();
  // cv::erode with an elliptic kernel costs O(radius) per pixel (about 0.4 ms at radius 5 but 12 ms at 24 and
  // 27 ms at 36 on a 600x700 mask, one core); the distance transform stays near 3 ms at any radius.
  constexpr int kLargestKernelErode = 8;
  if (distance.empty() && radius <= kLargestKernelErode) {
    cv::erode(hard, eroded, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1)));
    return eroded;
  }
  // The elliptic kernel's rounding of the radius.
  cv::compare(distance.empty() ? MaskDistance(hard) : distance, radius + 0.5, eroded, cv::CMP_GT);
  return eroded;
}

cv::Mat FeatherMask(const cv::Mat& hard, int radius, const cv::Mat& distance) {
  cv::Mat soft;
  if (radius <= 0) {
    hard.convertTo(soft, CV_32F, 1.0 / 255.0);
    return soft;
  }
  // What a Gaussian blur (sigma r/2, truncated at r) of the mask eroded by r + 0.5 gives across a straight
  // edge: the truncated normal CDF of the signed distance to the eroded edge. Computed from the distance to
  // the hard edge through a table (1/16 px steps) instead of blurring, it costs one pass at any radius.
  const cv::Mat d = distance.empty() ? MaskDistance(hard) : distance;
  const double sigma = radius / 2.0;
  const auto cdf = [&](double x) { return 0.5 * std::erfc(-x / (sigma * std::sqrt(2.0))); };
  const double low = cdf(-radius), span = cdf(radius) - low;
  constexpr int kSteps = 16;
  std::vector<float> table(static_cast<std::size_t>((2 * radius + 2) * kSteps));
  for (std::size_t i = 0; i < table.size(); ++i) {
    const double x = static_cast<double>(i) / kSteps - (radius + 0.5);
    table[i] = static_cast<float>(std::clamp((cdf(x) - low) / span, 0.0, 1.0));  // 1 from r + 0.5 + r px deep
  }
  soft = cv::Mat::zeros(hard.size(), CV_32F);
  const int last = static_cast<int>(table.size()) - 1;
  for (int y = 0; y < d.rows; ++y) {
    const float* in = d.ptr<float>(y);
    float* out = soft.ptr<float>(y);
    for (int x = 0; x < d.cols; ++x) {
      if (in[x] > 0) out[x] = table[static_cast<std::size_t>(std::min(static_cast<int>(in[x] * kSteps), last))];
    }
  }
  return soft;
}

}  // namespace facefleet::pipeline
