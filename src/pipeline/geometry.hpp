// Geometry used by the classic swapper: Delaunay triangulation, piecewise-affine warps and face masks.
//
// Pure functions over OpenCV types; thread-safe.
#pragma once

#include <array>
#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "facefleet/types.hpp"

namespace facefleet::pipeline {

// Three indices into the point list that was triangulated, counter-clockwise in image coordinates.
using Triangle = std::array<int, 3>;

std::vector<cv::Point2f> ToCv(std::span<const Point2> points);

// Delaunay triangulation of `points` (duplicates are ignored, collinear input yields no triangles). Every
// returned triangle has a non-empty circumcircle test against all other points (the Delaunay property).
std::vector<Triangle> Triangulate(std::span<const cv::Point2f> points);

// Warps the triangle `src_tri` of `src` onto `dst_tri` in `dst` (same type as src), writing only the pixels
// inside dst_tri. `coverage` (CV_8U, dst size) gets 255 where pixels were written.
void WarpTriangle(const cv::Mat& src, cv::Mat& dst, const std::array<cv::Point2f, 3>& src_tri,
                  const std::array<cv::Point2f, 3>& dst_tri, cv::Mat& coverage);

// Warps `src` so that src_points land on dst_points, triangle by triangle. Returns an image of `size`
// (same type as src) and sets `coverage` to where it wrote.
cv::Mat WarpPiecewiseAffine(const cv::Mat& src, std::span<const cv::Point2f> src_points,
                            std::span<const cv::Point2f> dst_points, std::span<const Triangle> triangles, cv::Size size,
                            cv::Mat& coverage);

// 255 inside the convex hull of `points`, 0 outside (CV_8U of `size`).
cv::Mat HullMask(std::span<const cv::Point2f> points, cv::Size size);

// `hard` (CV_8U) eroded by a disc of `radius` pixels, as cv::erode with a (2 radius + 1) MORPH_ELLIPSE kernel
// (outside the image counts as set). Above a few pixels it thresholds a Euclidean distance transform instead,
// whose cost does not grow with the radius; the two differ only by single pixels along the edge.
cv::Mat ErodeDisc(const cv::Mat& hard, int radius);

// A soft mask (CV_32F in [0,1]) from a binary one: 1 deep inside, ramping to 0 over `radius` pixels at the
// edge. It is exactly 0 wherever `hard` is 0, so pixels outside the hard mask are never touched. `eroded`,
// when given, must be ErodeDisc(hard, radius) (callers that need it anyway save a second erosion).
cv::Mat FeatherMask(const cv::Mat& hard, int radius, const cv::Mat& eroded = cv::Mat());

}  // namespace facefleet::pipeline
