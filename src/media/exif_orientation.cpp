// EXIF orientation for JPEG (jpeg_codec.cpp): parsing the tag and turning the pixels upright.
#include <cstring>

#include <opencv2/core.hpp>

#include "media/image_codecs.hpp"

namespace facefleet::media {

// The EXIF orientation (1-8) in an APP1 payload: "Exif\0\0", a TIFF header (II = little-endian or MM = big-endian,
// 42, the offset of IFD0), then IFD0's 12-byte entries; tag 0x0112 is a SHORT whose value sits in the first two
// bytes of the entry's value field. 1 (display as stored) when the tag is absent or anything is malformed.
int ExifOrientation(std::span<const std::uint8_t> app1) {
  constexpr std::size_t kTiffStart = 6;
  if (app1.size() < kTiffStart + 8 || std::memcmp(app1.data(), "Exif\0\0", kTiffStart) != 0) return 1;
  const auto tiff = app1.subspan(kTiffStart);
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  const auto u16 = [&](std::size_t at) -> std::uint32_t {
    return little ? tiff[at] | (tiff[at + 1] << 8U) : (tiff[at] << 8U) | tiff[at + 1];
  };
  const auto u32 = [&](std::size_t at) {
    return little ? u16(at) | (u16(at + 2) << 16U) : (u16(at) << 16U) | u16(at + 2);
  };
  if (u16(2) != 42) return 1;
  const std::size_t ifd = u32(4);
  if (ifd + 2 > tiff.size()) return 1;
  const std::size_t entries = u16(ifd);
  for (std::size_t i = 0; i < entries; ++i) {
    const std::size_t entry = ifd + 2 + 12 * i;
    if (entry + 12 > tiff.size()) return 1;
    if (u16(entry) != 0x0112) continue;
    const std::uint32_t value = u16(entry + 8);
    return u16(entry + 2) == 3 && value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

// The EXIF value names where the stored first row and column belong; each case undoes that.
cv::Mat ApplyExifOrientation(const cv::Mat& image, int orientation) {
  cv::Mat out;
  switch (orientation) {
    case 2:  // mirrored left-right
      cv::flip(image, out, 1);
      break;
    case 3:  // upside down
      cv::rotate(image, out, cv::ROTATE_180);
      break;
    case 4:  // mirrored top-bottom
      cv::flip(image, out, 0);
      break;
    case 5:  // mirrored along the main diagonal
      cv::transpose(image, out);
      break;
    case 6:  // to be turned 90 degrees clockwise
      cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE);
      break;
    case 7:  // mirrored along the anti-diagonal
      cv::transpose(image, out);
      cv::flip(out, out, -1);
      break;
    case 8:  // to be turned 90 degrees counter-clockwise
      cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    default:  // 1 (upright) or an invalid value
      return image;
  }
  return out;
}

}  // namespace facefleet::media
