// Per-format image codecs behind DecodeImage/EncodeImage (image_io.hpp). Private to src/media.
//
// Why not cv::imdecode/cv::imencode: libopencv_imgcodecs links 69 more shared libraries (GDAL, poppler, HDF5,
// GDCM, …) that every facefleet process loaded at start-up to read four formats (`facefleet --version` took 0.23 s
// instead of 0.11 s). These functions call Debian's codec libraries directly: libjpeg-turbo, libpng, libwebp; BMP is
// parsed by hand.
//
// Decoders: the caller has already probed the header and checked its pixel count against the limit. They return
// 8-bit BGR, or BGRA where noted; kInputUnreadable ("corrupt …"/"truncated …", with the library's reason) for
// damaged data and kUnsupportedMedia for a valid file that uses a feature we do not read. Nothing is printed to
// stderr: every library's warnings and errors are captured.
// Encoders: the input is 8-bit BGR, or BGRA where the format keeps alpha (the caller drops it otherwise); failure
// is kInternal "image encoder failed: <reason>".
// Every function is thread-safe: no shared state.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "facefleet/status.hpp"

namespace facefleet::media {

using EncodedImage = std::vector<std::uint8_t>;

// Baseline and progressive JPEG; grey and CMYK/YCCK (Adobe's inverted convention) become BGR, and the EXIF
// orientation (tag 0x0112 in an APP1 "Exif" segment) is applied. Damaged entropy-coded data that libjpeg notices
// (the decoder losing step with the data) is an error, not a grey patch; a flipped bit usually goes unnoticed, as
// in any decoder. The caller rejects a stream without an end-of-image marker beforehand (JpegIsComplete).
Result<cv::Mat> DecodeJpeg(std::span<const std::uint8_t> bytes);
// Baseline JPEG with 4:2:0 chroma subsampling; quality 0-100 (0 is treated as 1).
Result<EncodedImage> EncodeJpeg(const cv::Mat& bgr, int quality);

// BGRA when the file has an alpha channel or transparency (tRNS), else BGR. Grey and palette images are
// expanded; 16-bit samples become round(v / 257), as other viewers show them.
Result<cv::Mat> DecodePng(std::span<const std::uint8_t> bytes);
// Lossless; BGR or BGRA.
Result<EncodedImage> EncodePng(const cv::Mat& image);

// BGRA when the file has alpha, else BGR. Animated WebP is kUnsupportedMedia.
Result<cv::Mat> DecodeWebp(std::span<const std::uint8_t> bytes);
// Lossy at quality max(quality, 1); BGR or BGRA (alpha is kept). At most 16383x16383 pixels (a WebP limit).
Result<EncodedImage> EncodeWebp(const cv::Mat& image, int quality);

// Uncompressed BMP: 1/4/8-bit palette, 24-bit, 16- and 32-bit (BI_RGB, or BI_BITFIELDS with contiguous masks),
// bottom-up or top-down, any header version. Always BGR: the 32-bit padding byte is not read as alpha, as OpenCV
// did not either. RLE, embedded JPEG/PNG and other bit depths are kUnsupportedMedia.
Result<cv::Mat> DecodeBmp(std::span<const std::uint8_t> bytes);
// 24-bit bottom-up BMP (BITMAPINFOHEADER) from BGR.
Result<EncodedImage> EncodeBmp(const cv::Mat& bgr);

// Allocates the decoders' output without letting std::bad_alloc (or cv::Exception) unwind through a C library's
// frames: false when it fails, and the caller reports it the library's way (libjpeg/libpng error handlers).
inline bool TryCreatePixels(cv::Mat* pixels, int rows, int cols, int type) noexcept {
  try {
    pixels->create(rows, cols, type);
    return true;
  } catch (...) {
    return false;
  }
}

// Helpers of the JPEG codec (exif_orientation.cpp).
// The EXIF orientation (1-8) in an APP1 segment's payload (after the length field); 1 when there is none or the
// segment is malformed. Both TIFF byte orders.
int ExifOrientation(std::span<const std::uint8_t> app1);
// The stored pixels turned upright for an EXIF orientation value; values outside 2-8 return `image` as it is.
cv::Mat ApplyExifOrientation(const cv::Mat& image, int orientation);

}  // namespace facefleet::media
