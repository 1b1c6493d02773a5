// PNG decoding through libpng's simplified API.
//
// Why not cv::imdecode: OpenCV lets libpng print warnings ("iCCP: known incorrect sRGB profile", common in
// real-world files) and errors straight to stderr, which pollutes CLI output and service logs. The
// simplified API reports them in a message field instead, so the error can name the actual problem.
#pragma once

#include <cstdint>
#include <span>

#include <opencv2/core/mat.hpp>

#include "facefleet/status.hpp"

namespace facefleet::media {

// 8-bit BGR, or BGRA when the file has an alpha channel or transparency (tRNS). Greyscale and palette
// images are expanded; 16-bit samples are reduced to 8 bits. kInputUnreadable with libpng's reason on
// truncated or corrupt data. Thread-safe.
Result<cv::Mat> DecodePng(std::span<const std::uint8_t> bytes);

}  // namespace facefleet::media
