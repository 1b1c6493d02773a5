// Image format sniffing and header parsing, without decoding pixels.
//
// Why: a decompression bomb (a small file whose header declares a huge image) must be refused before a
// decoder allocates anything, and the format must be judged by content, never by the file extension.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "facefleet/status.hpp"

namespace facefleet::media {

enum class ImageFormat : std::uint8_t { kJpeg, kPng, kWebp, kBmp };

struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  std::int64_t width = 0;
  std::int64_t height = 0;
};

// Reads the format and declared dimensions from the first bytes of a file. Fails with kUnsupportedMedia for
// content that is not JPEG/PNG/WebP/BMP (naming the format when it is a known one, e.g. GIF), and with
// kInputUnreadable when the header itself is cut short or inconsistent.
Result<ImageHeader> ProbeImage(std::span<const std::uint8_t> bytes);

// True when a JPEG stream ends properly (an EOI marker after its first scan). libjpeg silently fills a
// truncated image with grey, so this is how a cut-off JPEG is told apart.
bool JpegIsComplete(std::span<const std::uint8_t> bytes);

// The output format for a path's extension (case-insensitive: .jpg .jpeg .png .webp .bmp).
Result<ImageFormat> FormatFromExtension(std::string_view path);

std::string_view FormatName(ImageFormat format);

// Whether the format stores an alpha channel.
bool FormatHasAlpha(ImageFormat format);

}  // namespace facefleet::media
