// Alignment, paste-back, pixel boost and masks for the neural models, with FaceFusion's exact mechanics
// (facts in ../shared/reference/facefusion-models.md §3.0).
//
// All functions are pure and thread-safe. Crops are 8-bit BGR; masks are CV_32F in [0, 1] at crop size.
#pragma once

#include <array>
#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "facefleet/types.hpp"
#include "models/registry.hpp"

namespace facefleet::pipeline {

// Similarity transform (2x3, CV_64F) taking the face's 5 points onto `tmpl` scaled to `crop_size`
// (RANSAC, reprojection threshold 100, as FaceFusion).
cv::Mat EstimateAlignment(const std::array<Point2, 5>& landmark5, const models::WarpTemplate& tmpl, int crop_size);

// The aligned crop: warpAffine with INTER_AREA and replicated borders.
cv::Mat WarpFace(const cv::Mat& frame, const cv::Mat& affine, int crop_size);

// Pastes `crop` back into `frame` (in place) through the inverse of `affine`, weighting by `mask`: only the
// region covered by the projected crop is touched; there frame = frame * (1 - m) + crop * m.
void PasteBack(cv::Mat& frame, const cv::Mat& crop, const cv::Mat& mask, const cv::Mat& affine);

// Pixel boost: a crop of size B = k * S split into k*k sub-images of size S by strided sampling (sub-image
// (a, b) holds pixels (i*k + a, j*k + b)), and the exact inverse.
std::vector<cv::Mat> SplitPixelBoost(const cv::Mat& crop, int model_size);
cv::Mat MergePixelBoost(std::span<const cv::Mat> tiles, int boost_size);

// Box mask: zero border of max(blur_area, padding% x size) per side (padding order top, right, bottom,
// left), then a Gaussian blur; blur in [0, 1] (FaceFusion default 0.3).
cv::Mat BoxMask(cv::Size size, float blur, const std::array<int, 4>& padding_percent);

// Area mask: filled convex hulls of named 68-point subsets (upper-face, lower-face, mouth), landmarks
// given in crop coordinates; then the soft post-process.
cv::Mat AreaMask(cv::Size size, std::span<const cv::Point2f> landmark68, std::span<const std::string> areas);

// The post-process of occlusion/area/region masks: Gaussian blur sigma 5, then (clip(m, .5, 1) - .5) * 2.
cv::Mat SoftenMask(const cv::Mat& mask);

// Element-wise minimum of all masks, clipped to [0, 1]. Precondition: at least one mask, same sizes.
cv::Mat CombineMasks(std::span<const cv::Mat> masks);

// Float planes (NCHW, batch 1) from an 8-bit 3-channel image: plane c = alpha[c] * x + beta[c] where x is
// channel c of `hwc`, or channel 2 - c when `reverse_channels` (BGR image -> RGB planes). Vectorised; every
// model input is packed by this.
std::vector<float> ToPlanes(const cv::Mat& hwc, bool reverse_channels, const std::array<float, 3>& alpha,
                            const std::array<float, 3>& beta);

// RGB float planes (NCHW, batch 1) from a BGR crop: ((x/255) - mean) / std per channel.
std::vector<float> ToNchwRgb(const cv::Mat& bgr, const std::array<float, 3>& mean, const std::array<float, 3>& stddev);

// The inverse: NCHW RGB floats (size x size) -> BGR 8-bit, after x * std + mean when `denormalize`, clipped
// to [0, 1] and scaled by 255 (rounded to nearest).
cv::Mat FromNchwRgb(std::span<const float> data, int size, const std::array<float, 3>& mean,
                    const std::array<float, 3>& stddev, bool denormalize);

}  // namespace facefleet::pipeline
