#include "media/png_decoder.hpp"

#include <png.h>

#include <string>

#include <opencv2/imgcodecs.hpp>

#include "media/image_io.hpp"

namespace facefleet::media {
namespace {

Result<cv::Mat> DecodeDeepPng(std::span<const std::uint8_t> bytes) {
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<std::uint8_t*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kInputUnreadable, "corrupt 16-bit PNG data (" + e.err + ")");
  }
  if (image.empty()) return Status(ErrorCode::kInputUnreadable, "corrupt or truncated 16-bit PNG data");
  return NormalizeDecoded(image);
}

}  // namespace

Result<cv::Mat> DecodePng(std::span<const std::uint8_t> bytes) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) == 0) {
    return Status(ErrorCode::kInputUnreadable, std::string("corrupt or truncated PNG data (") + image.message + ")");
  }
  if ((image.format & PNG_FORMAT_FLAG_LINEAR) != 0U) {
    // 16-bit file: the simplified API would treat its samples as linear light and re-encode them to sRGB,
    // brightening ordinary 16-bit photos; other viewers scale samples by 1/257. Do the same via OpenCV.
    png_image_free(&image);
    return DecodeDeepPng(bytes);
  }
  const bool alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0U;
  image.format = alpha ? PNG_FORMAT_BGRA : PNG_FORMAT_BGR;
  cv::Mat out(static_cast<int>(image.height), static_cast<int>(image.width), alpha ? CV_8UC4 : CV_8UC3);
  if (png_image_finish_read(&image, nullptr, out.data, static_cast<png_int_32>(out.step[0]), nullptr) == 0) {
    png_image_free(&image);
    return Status(ErrorCode::kInputUnreadable, std::string("corrupt or truncated PNG data (") + image.message + ")");
  }
  return out;
}

}  // namespace facefleet::media
