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

// Euclidean distance (CV_32F) of every set pixel of `hard` (CV_8U) to the nearest unset pixel; 0 on unset
// pixels. Pixels outside the image count as set. Shared by ErodeDisc and FeatherMask, which accept it so a
// caller needing both computes it once.
cv::Mat MaskDistance(const cv::Mat& hard);

// `hard` (CV_8U) eroded by a disc of `radius` pixels, as cv::erode with a (2 radius + 1) MORPH_ELLIPSE kernel
// (outside the image counts as set). Given `distance` (MaskDistance(hard)), or above a few pixels, it
// thresholds the distance instead, whose cost does not grow with the radius; the two differ only by single
// pixels along the edge.
cv::Mat ErodeDisc(const cv::Mat& hard, int radius, const cv::Mat& distance = cv::Mat());

// A soft mask (CV_32F in [0,1]) from a binary one: 0 on the edge, ramping up over 2 radius + 1 pixels inwards
// to exactly 1 (the profile of a Gaussian blur, sigma radius / 2, of the mask eroded by the radius). It is
// exactly 0 wherever `hard` is 0, so pixels outside the hard mask are never touched. `distance`, when given,
// must be MaskDistance(hard).
cv::Mat FeatherMask(const cv::Mat& hard, int radius, const cv::Mat& distance = cv::Mat());

}  // namespace facefleet::pipeline
