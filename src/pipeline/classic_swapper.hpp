// The classic (zero-download) swapper: piecewise-affine warp of the source face onto the target's 68
// landmarks, Lab colour transfer to the target's skin tone, and a feathered or Poisson blend.
//
// Stateless and thread-safe.
#pragma once

#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "facefleet/engine.hpp"
#include "facefleet/options.hpp"
#include "facefleet/types.hpp"

namespace facefleet::pipeline {

// The source identity: a BGR texture and the 68 landmarks that locate the face in it.
struct ClassicSource {
  cv::Mat texture;
  std::vector<cv::Point2f> points;
};

// One source: its image and landmarks as they are. Several: every face is aligned to the first by a
// similarity transform, their landmarks are averaged into a mean shape, each face is warped onto that
// shape and the pixels inside the face hull are averaged (an "average face"). Images are 8-bit BGR; each
// face must have 68 landmarks. Precondition: images.size() == faces.size() >= 1.
ClassicSource BuildClassicSource(std::span<const cv::Mat> images, std::span<const Face> faces);

// The face region that a swap of `target` may change: the convex hull of its 68 landmarks (CV_8U, frame size).
cv::Mat TargetFaceMask(const Face& target, cv::Size frame_size);

// Replaces `target` in `frame` (8-bit BGR, modified in place) with the source face. Only pixels inside the
// convex hull of the target's 68 landmarks change. Adds warp/blend times to `timings` when given.
void SwapClassicFace(const ClassicSource& source, const Face& target, ClassicBlend blend, cv::Mat& frame,
                     StageTimings* timings = nullptr);

}  // namespace facefleet::pipeline
