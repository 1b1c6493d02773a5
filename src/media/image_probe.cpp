#include "media/image_probe.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string>

namespace facefleet::media {
namespace {

using Bytes = std::span<const std::uint8_t>;

std::uint32_t ReadBe16(Bytes b, std::size_t at) { return (b[at] << 8U) | b[at + 1]; }
std::uint32_t ReadBe32(Bytes b, std::size_t at) { return (ReadBe16(b, at) << 16U) | ReadBe16(b, at + 2); }
std::uint32_t ReadLe16(Bytes b, std::size_t at) { return b[at] | (b[at + 1] << 8U); }
std::uint32_t ReadLe24(Bytes b, std::size_t at) { return ReadLe16(b, at) | (b[at + 2] << 16U); }
std::uint32_t ReadLe32(Bytes b, std::size_t at) { return ReadLe16(b, at) | (ReadLe16(b, at + 2) << 16U); }

bool StartsWith(Bytes b, std::string_view magic, std::size_t at = 0) {
  return b.size() >= at + magic.size() && std::memcmp(b.data() + at, magic.data(), magic.size()) == 0;
}

Status Truncated(std::string_view format) {
  return {ErrorCode::kInputUnreadable, "truncated or corrupt " + std::string(format) + " header"};
}

// Walks JPEG marker segments up to the first SOFn, which holds the frame size.
Result<ImageHeader> ProbeJpeg(Bytes b) {
  std::size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) return Truncated("JPEG");
    const std::uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
      pos += 2;
      continue;
    }
    const std::uint32_t length = ReadBe16(b, pos + 2);
    const bool is_sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof) {
      if (pos + 9 > b.size()) return Truncated("JPEG");
      return ImageHeader{ImageFormat::kJpeg, ReadBe16(b, pos + 7), ReadBe16(b, pos + 5)};
    }
    if (marker == 0xDA || marker == 0xD9 || length < 2) break;  // scan data before any frame header
    pos += 2 + length;
  }
  return Truncated("JPEG");
}

Result<ImageHeader> ProbeWebp(Bytes b) {
  if (b.size() < 30) return Truncated("WebP");
  if (StartsWith(b, "VP8 ", 12)) {
    if (b[23] != 0x9D || b[24] != 0x01 || b[25] != 0x2A) return Truncated("WebP");
    return ImageHeader{ImageFormat::kWebp, ReadLe16(b, 26) & 0x3FFFU, ReadLe16(b, 28) & 0x3FFFU};
  }
  if (StartsWith(b, "VP8L", 12)) {
    if (b[20] != 0x2F) return Truncated("WebP");
    const std::uint32_t bits = ReadLe32(b, 21);
    return ImageHeader{ImageFormat::kWebp, (bits & 0x3FFFU) + 1, ((bits >> 14U) & 0x3FFFU) + 1};
  }
  if (StartsWith(b, "VP8X", 12)) {
    return ImageHeader{ImageFormat::kWebp, ReadLe24(b, 24) + 1, ReadLe24(b, 27) + 1};
  }
  return Truncated("WebP");
}

Result<ImageHeader> ProbeBmp(Bytes b) {
  if (b.size() < 26) return Truncated("BMP");
  const std::uint32_t dib_size = ReadLe32(b, 14);
  if (dib_size == 12) return ImageHeader{ImageFormat::kBmp, ReadLe16(b, 18), ReadLe16(b, 20)};
  if (dib_size < 40) return Truncated("BMP");
  const auto width = static_cast<std::int32_t>(ReadLe32(b, 18));
  const auto height = static_cast<std::int32_t>(ReadLe32(b, 22));
  if (width <= 0 || height == 0) return Truncated("BMP");
  return ImageHeader{ImageFormat::kBmp, width, height < 0 ? -static_cast<std::int64_t>(height) : height};
}

// Formats users send by mistake, named so the error says what the file actually is.
std::string_view KnownUnsupported(Bytes b) {
  if (StartsWith(b, "GIF87a") || StartsWith(b, "GIF89a")) return "GIF";
  if (StartsWith(b, "II*") || StartsWith(b, "MM")) return "TIFF";
  if (StartsWith(b, "ftypheic", 4) || StartsWith(b, "ftypheix", 4) || StartsWith(b, "ftypmif1", 4)) return "HEIC";
  if (StartsWith(b, "ftypavif", 4)) return "AVIF";
  if (StartsWith(b, "ftyp", 4)) return "an MP4/MOV video";
  if (StartsWith(b, "%PDF")) return "PDF";
  if (StartsWith(b, "\x1A\x45\xDF\xA3")) return "a Matroska/WebM video";
  return {};
}

}  // namespace

Result<ImageHeader> ProbeImage(Bytes bytes) {
  if (bytes.empty()) return Status(ErrorCode::kInputUnreadable, "file is empty");
  Result<ImageHeader> header = Status(ErrorCode::kInternal, "unreachable");
  if (StartsWith(bytes, "\xFF\xD8\xFF")) {
    header = ProbeJpeg(bytes);
  } else if (StartsWith(bytes, "\x89PNG\r\n\x1A\n")) {
    if (bytes.size() < 24 || !StartsWith(bytes, "IHDR", 12)) return Truncated("PNG");
    header = ImageHeader{ImageFormat::kPng, ReadBe32(bytes, 16), ReadBe32(bytes, 20)};
  } else if (StartsWith(bytes, "RIFF") && StartsWith(bytes, "WEBP", 8)) {
    header = ProbeWebp(bytes);
  } else if (StartsWith(bytes, "BM")) {
    header = ProbeBmp(bytes);
  } else {
    const std::string_view known = KnownUnsupported(bytes);
    const std::string what =
        known.empty() ? "not an image (unrecognised content)" : std::string(known) + " is not supported";
    return Status(ErrorCode::kUnsupportedMedia, what + "; supported: JPEG, PNG, WebP, BMP");
  }
  if (header.ok() && (header->width <= 0 || header->height <= 0)) {
    return Status(ErrorCode::kInputUnreadable, "image header declares a zero size");
  }
  return header;
}

bool JpegIsComplete(Bytes bytes) {
  std::size_t pos = 2;
  while (pos + 4 <= bytes.size()) {  // find the first SOS marker segment
    if (bytes[pos] != 0xFF) return false;
    const std::uint8_t marker = bytes[pos + 1];
    if (marker == 0xFF || marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += marker == 0xFF ? 1 : 2;
      continue;
    }
    if (marker == 0xDA) break;
    pos += 2 + ReadBe16(bytes, pos + 2);
  }
  // Entropy-coded data stuffs 0xFF as FF 00, so FF D9 after the first scan can only be the EOI marker.
  for (std::size_t i = pos; i + 1 < bytes.size(); ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return true;
  }
  return false;
}

Result<ImageFormat> FormatFromExtension(std::string_view path) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  std::string ext;
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    ext = std::string(path.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  }
  if (ext == "jpg" || ext == "jpeg") return ImageFormat::kJpeg;
  if (ext == "png") return ImageFormat::kPng;
  if (ext == "webp") return ImageFormat::kWebp;
  if (ext == "bmp") return ImageFormat::kBmp;
  return Status(ErrorCode::kUsage, "unsupported output extension '" +
                                       (ext.empty() ? std::string("(none)") : "." + ext) +
                                       "' (valid: .jpg, .jpeg, .png, .webp, .bmp)");
}

std::string_view FormatName(ImageFormat format) {
  static constexpr std::array<std::string_view, 4> kNames = {"JPEG", "PNG", "WebP", "BMP"};
  return kNames[static_cast<std::size_t>(format)];
}

bool FormatHasAlpha(ImageFormat format) { return format == ImageFormat::kPng || format == ImageFormat::kWebp; }

}  // namespace facefleet::media
