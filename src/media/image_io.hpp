// Reading and writing image files: limits checked before decoding, atomic writes.
//
// All functions are thread-safe (no shared state). Errors name the file and the reason.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "facefleet/status.hpp"
#include "facefleet/types.hpp"
#include "media/image_probe.hpp"

namespace facefleet::media {

Result<std::vector<std::uint8_t>> ReadFileBytes(const std::string& path);

// Decodes JPEG/PNG/WebP/BMP bytes into 8-bit BGR, or BGRA when the file has an alpha channel. JPEG EXIF
// orientation is applied. The header's pixel count is checked against `max_pixels` before decoding.
Result<cv::Mat> DecodeImage(std::span<const std::uint8_t> bytes, std::int64_t max_pixels);

// Brings any decoded Mat (8/16-bit; grey, grey+alpha, BGR, BGRA) to 8-bit BGR or BGRA.
cv::Mat NormalizeDecoded(cv::Mat image);

// ReadFileBytes + DecodeImage; error messages are prefixed with the path.
Result<cv::Mat> ReadImage(const std::string& path, std::int64_t max_pixels);

// Encodes BGR/BGRA `image` for `format`; alpha is dropped for formats without it. quality: 0-100.
Result<std::vector<std::uint8_t>> EncodeImage(const cv::Mat& image, ImageFormat format, int quality);

// kInputUnreadable when `path` does not exist, is a directory, is empty or cannot be opened.
Status CheckInputPath(const std::string& path);

// Fails fast, before any work, when `path` cannot be written: unsupported extension (kUsage), missing
// directory, directory not writable, or path is a directory (kOutputFailed).
Status CheckOutputPath(const std::string& path);
// The same checks without the extension: path is not a directory, its directory exists and is writable.
Status CheckOutputLocation(const std::string& path);

// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it over `path`, so
// readers see the old file or the complete new one, never a partial one. The temporary is removed on error.
Status WriteFileAtomic(const std::string& path, std::span<const std::uint8_t> bytes);

// A cv::Mat header over the Image's pixels (no copy). The Image must outlive the Mat; callers must not
// write through it unless they own `image`.
cv::Mat AsMat(const Image& image);

// Copies an 8-bit 3- or 4-channel Mat into an Image.
Image ToImage(const cv::Mat& mat);

}  // namespace facefleet::media
