// Colour transfer (after Reinhard et al. 2001): match the mean and standard deviation of each channel of a
// decorrelating colour space (BT.601 luma + two chroma channels; linear, so the transfer is one affine map
// of BGR — about 10x cheaper per frame than the float Lab round trip it replaced).
#pragma once

#include <opencv2/core.hpp>

namespace facefleet::pipeline {

// Returns `source` (8-bit BGR) recoloured so that, inside `mask` (CV_8U, non-zero = inside), its luma and
// chroma statistics match those of `reference` (same size) inside the same mask. Pixels outside the mask
// are transformed too (the caller blends with the mask anyway). The per-channel gain is clamped to [0.5, 2]
// so a flat region cannot blow up noise. Thread-safe.
cv::Mat TransferColor(const cv::Mat& source, const cv::Mat& reference, const cv::Mat& mask);

}  // namespace facefleet::pipeline
