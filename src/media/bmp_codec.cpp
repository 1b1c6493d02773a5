// BMP by hand. The format is a small header and raw rows, and the variants people actually send are few, so a
// parser of the uncompressed kinds is shorter and easier to audit than driving libavcodec's bmp decoder (a codec
// context, a packet, and a pixel-format conversion for the same result).
//
// Layout: a 14-byte file header ("BM", file size, 4 reserved bytes, offset of the pixel rows), then an info header
// whose first 4 bytes give its size: 12 (OS/2 BITMAPCOREHEADER: 16-bit width and height, 3-byte palette entries)
// or 40 and more (BITMAPINFOHEADER and its V2-V5 extensions: 32-bit width, height negative for top-down rows,
// compression, colours used; 4-byte palette entries). BI_BITFIELDS masks follow a 40-byte header, or sit inside
// a longer one, at the same offset (54). Rows are padded to 4 bytes and stored bottom-up unless height < 0.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

#include <opencv2/core.hpp>

#include "media/image_codecs.hpp"

namespace facefleet::media {
namespace {

using Bytes = std::span<const std::uint8_t>;

constexpr std::size_t kFileHeader = 14;
constexpr std::size_t kMasksAt = kFileHeader + 40;
constexpr std::uint32_t kRgb = 0;
constexpr std::uint32_t kBitfields = 3;

std::uint32_t Le16(Bytes b, std::size_t at) { return b[at] | (b[at + 1] << 8U); }
std::uint32_t Le32(Bytes b, std::size_t at) { return Le16(b, at) | (Le16(b, at + 2) << 16U); }

struct BmpLayout {
  int width = 0;
  int height = 0;
  bool top_down = false;
  std::uint32_t bits = 0;  // per pixel
  std::uint32_t compression = kRgb;
  std::size_t palette_at = 0;
  std::size_t palette_entry = 4;  // bytes per palette entry
  std::size_t palette_size = 0;   // entries
  std::size_t pixels_at = 0;
  std::size_t row_bytes = 0;
  std::array<std::uint32_t, 3> masks{};  // blue, green, red: for 16 and 32 bits per pixel
};

Status Unsupported(const std::string& what) {
  return {ErrorCode::kUnsupportedMedia, what +
                                            " is not supported; supported BMP: uncompressed 1/4/8-bit palette, "
                                            "16, 24 and 32-bit"};
}

Status Corrupt(const std::string& what) { return {ErrorCode::kInputUnreadable, "corrupt BMP data (" + what + ")"}; }

std::string CompressionName(std::uint32_t compression) {
  static constexpr std::array<const char*, 7> kNames = {
      "BI_RGB", "RLE8", "RLE4", "BI_BITFIELDS", "JPEG", "PNG", "BI_ALPHABITFIELDS"};
  return compression < kNames.size() ? kNames[compression] : "type " + std::to_string(compression);
}

// The masks say where each channel sits in a 16- or 32-bit pixel; without BI_BITFIELDS they are the defaults.
Status ReadMasks(Bytes b, BmpLayout* layout) {
  if (layout->compression == kRgb) {
    layout->masks = layout->bits == 16 ? std::array<std::uint32_t, 3>{0x001F, 0x03E0, 0x7C00}
                                       : std::array<std::uint32_t, 3>{0x0000FF, 0x00FF00, 0xFF0000};
    return Status::Ok();
  }
  if (b.size() < kMasksAt + 12) return Corrupt("bit field masks cut short");
  layout->masks = {Le32(b, kMasksAt + 8), Le32(b, kMasksAt + 4), Le32(b, kMasksAt)};
  for (const std::uint32_t mask : layout->masks) {
    const std::uint32_t field = mask >> std::countr_zero(mask | 0x80000000U);
    if (mask == 0 || (field & (field + 1)) != 0) return Corrupt("bit field masks are not contiguous");
  }
  return Status::Ok();
}

// Palette entries sit between the info header and the pixel rows. Files often store fewer than the 2^bits entries
// the header implies (colours used = 0); the entries that fit before the rows are used and other indexes are black.
void ReadPalette(Bytes b, bool core, std::uint32_t info_size, BmpLayout* layout) {
  const std::size_t declared = core ? 0 : Le32(b, 46);
  const std::size_t most = std::size_t{1} << layout->bits;
  layout->palette_entry = core ? 3 : 4;
  layout->palette_at = kFileHeader + info_size;
  const std::size_t room = (layout->pixels_at - layout->palette_at) / layout->palette_entry;
  layout->palette_size = std::min({declared == 0 ? most : declared, most, room});
}

Result<BmpLayout> ReadLayout(Bytes b) {
  BmpLayout layout;
  const std::uint32_t info_size = Le32(b, kFileHeader);
  const bool core = info_size == 12;
  if (!core && (info_size < 40 || b.size() < kFileHeader + 40)) return Corrupt("info header cut short");
  const auto width = static_cast<std::int64_t>(static_cast<std::int32_t>(core ? Le16(b, 18) : Le32(b, 18)));
  const auto height = static_cast<std::int64_t>(static_cast<std::int32_t>(core ? Le16(b, 20) : Le32(b, 22)));
  if (width <= 0 || height == 0 || height < -INT32_MAX) return Corrupt("bad image size");
  layout.width = static_cast<int>(width);
  layout.top_down = height < 0;
  layout.height = static_cast<int>(layout.top_down ? -height : height);
  layout.bits = Le16(b, core ? 24 : 28);
  layout.compression = core ? kRgb : Le32(b, 30);
  layout.pixels_at = Le32(b, 10);
  layout.row_bytes = (static_cast<std::size_t>(layout.width) * layout.bits + 31) / 32 * 4;
  if (layout.pixels_at < kFileHeader + info_size) return Corrupt("pixel rows overlap the header");
  const bool masked = layout.compression == kBitfields && (layout.bits == 16 || layout.bits == 32);
  if (layout.compression != kRgb && !masked) {
    return Unsupported("BMP compression " + CompressionName(layout.compression));
  }
  if (layout.bits == 1 || layout.bits == 4 || layout.bits == 8) {
    ReadPalette(b, core, info_size, &layout);
  } else if (layout.bits == 16 || layout.bits == 32) {
    if (Status masks = ReadMasks(b, &layout); !masks.ok()) return masks;
  } else if (layout.bits != 24) {
    return Unsupported(std::to_string(layout.bits) + "-bit BMP");
  }
  // pixels_at + row_bytes * height <= size, written so that nothing overflows
  if (layout.pixels_at > b.size() ||
      static_cast<std::size_t>(layout.height) > (b.size() - layout.pixels_at) / layout.row_bytes) {
    return Status(ErrorCode::kInputUnreadable, "truncated BMP data (pixel rows end after the file)");
  }
  return layout;
}

void DecodePaletteRow(Bytes b, const BmpLayout& layout, const std::uint8_t* row, std::uint8_t* out) {
  const std::uint32_t per_byte = 8 / layout.bits;
  const std::uint32_t mask = (1U << layout.bits) - 1;
  for (int x = 0; x < layout.width; ++x, out += 3) {
    const std::uint32_t shift = 8 - layout.bits * (1 + x % per_byte);  // leftmost pixel in the high bits
    const std::uint32_t index = (row[x / per_byte] >> shift) & mask;
    if (index >= layout.palette_size) {  // out-of-range index: black, as other viewers show it
      out[0] = out[1] = out[2] = 0;
      continue;
    }
    std::memcpy(out, b.data() + layout.palette_at + index * layout.palette_entry, 3);  // entries are B, G, R(, 0)
  }
}

// Scales each field to 8 bits with rounding: a 5-bit 31 becomes 255, an 8-bit field stays as it is.
void DecodeMaskedRow(const BmpLayout& layout, const std::uint8_t* row, std::uint8_t* out) {
  std::array<int, 3> shifts{};
  std::array<std::uint64_t, 3> maxima{};
  for (std::size_t c = 0; c < 3; ++c) {
    shifts[c] = std::countr_zero(layout.masks[c]);
    maxima[c] = layout.masks[c] >> shifts[c];
  }
  const std::size_t bytes = layout.bits / 8;
  for (int x = 0; x < layout.width; ++x, row += bytes, out += 3) {
    std::uint32_t pixel = row[0] | (row[1] << 8U);
    if (bytes == 4) pixel |= (row[2] << 16U) | (static_cast<std::uint32_t>(row[3]) << 24U);
    for (std::size_t c = 0; c < 3; ++c) {
      const std::uint64_t value = (pixel & layout.masks[c]) >> shifts[c];
      out[c] = static_cast<std::uint8_t>((value * 255 + maxima[c] / 2) / maxima[c]);
    }
  }
}

}  // namespace

Result<cv::Mat> DecodeBmp(Bytes bytes) {
  auto layout = ReadLayout(bytes);
  if (!layout.ok()) return layout.status();
  cv::Mat out(layout->height, layout->width, CV_8UC3);
  for (int y = 0; y < layout->height; ++y) {
    const int stored = layout->top_down ? y : layout->height - 1 - y;
    const std::uint8_t* row = bytes.data() + layout->pixels_at + static_cast<std::size_t>(stored) * layout->row_bytes;
    if (layout->bits <= 8) {
      DecodePaletteRow(bytes, *layout, row, out.ptr(y));
    } else if (layout->bits == 24) {
      std::memcpy(out.ptr(y), row, static_cast<std::size_t>(layout->width) * 3);
    } else {
      DecodeMaskedRow(*layout, row, out.ptr(y));
    }
  }
  return out;
}

Result<EncodedImage> EncodeBmp(const cv::Mat& bgr) {
  constexpr std::size_t kHeaders = kFileHeader + 40;
  const std::size_t row_bytes = (static_cast<std::size_t>(bgr.cols) * 3 + 3) / 4 * 4;
  const std::size_t total = kHeaders + row_bytes * bgr.rows;
  if (total > 0xFFFFFFFFU) return Status(ErrorCode::kInternal, "image encoder failed: over 4 GiB, too large for BMP");
  EncodedImage out(total, 0);
  const auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  out[0] = 'B';
  out[1] = 'M';
  put32(2, static_cast<std::uint32_t>(total));
  put32(10, kHeaders);  // pixel rows start right after the headers
  put32(14, 40);        // BITMAPINFOHEADER
  put32(18, static_cast<std::uint32_t>(bgr.cols));
  put32(22, static_cast<std::uint32_t>(bgr.rows));  // positive: bottom-up, which every reader understands
  out[26] = 1;                                      // planes
  out[28] = 24;                                     // bits per pixel; compression BI_RGB (0)
  put32(34, static_cast<std::uint32_t>(row_bytes * bgr.rows));
  for (int y = 0; y < bgr.rows; ++y) {
    std::memcpy(out.data() + kHeaders + static_cast<std::size_t>(bgr.rows - 1 - y) * row_bytes, bgr.ptr(y),
                static_cast<std::size_t>(bgr.cols) * 3);
  }
  return out;
}

}  // namespace facefleet::media
