// WebP through libwebp: decode straight into BGR/BGRA, lossy encode from BGR/BGRA.
#include <algorithm>
#include <memory>
#include <string>

#include <opencv2/core.hpp>
#include <webp/decode.h>
#include <webp/encode.h>

#include "media/image_codecs.hpp"

namespace facefleet::media {
namespace {

const char* Reason(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "unexpected end of data";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    default:
      return "decoder error";
  }
}

Status Unreadable(VP8StatusCode status) {
  return {ErrorCode::kInputUnreadable, std::string("corrupt or truncated WebP data (") + Reason(status) + ")"};
}

struct WebpFree {
  void operator()(std::uint8_t* data) const { WebPFree(data); }
};

}  // namespace

// The size libwebp decodes to is the one ProbeImage read (a VP8X canvas must match its bitstream, which libwebp
// checks), so the caller's pixel limit holds. libwebp checks that the output buffer is large enough, too.
Result<cv::Mat> DecodeWebp(std::span<const std::uint8_t> bytes) {
  WebPDecoderConfig config;
  if (WebPInitDecoderConfig(&config) == 0) return Status(ErrorCode::kInternal, "libwebp version mismatch");
  if (const VP8StatusCode status = WebPGetFeatures(bytes.data(), bytes.size(), &config.input);
      status != VP8_STATUS_OK) {
    return Unreadable(status);
  }
  if (config.input.has_animation != 0) {
    return Status(ErrorCode::kUnsupportedMedia, "animated WebP is not supported; supported: still images");
  }
  const bool alpha = config.input.has_alpha != 0;
  cv::Mat out(config.input.height, config.input.width, alpha ? CV_8UC4 : CV_8UC3);
  config.output.colorspace = alpha ? MODE_BGRA : MODE_BGR;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out.data;
  config.output.u.RGBA.stride = static_cast<int>(out.step[0]);
  config.output.u.RGBA.size = out.step[0] * out.rows;
  const VP8StatusCode status = WebPDecode(bytes.data(), bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);  // releases nothing of ours (external memory); the documented pairing
  if (status != VP8_STATUS_OK) return Unreadable(status);
  return out;
}

Result<EncodedImage> EncodeWebp(const cv::Mat& image, int quality) {
  if (image.cols > WEBP_MAX_DIMENSION || image.rows > WEBP_MAX_DIMENSION) {
    return Status(ErrorCode::kInternal, "image encoder failed: WebP images are at most " +
                                            std::to_string(WEBP_MAX_DIMENSION) + "x" +
                                            std::to_string(WEBP_MAX_DIMENSION) + " pixels");
  }
  // 1-100 is lossy; libwebp treats 0 as the lowest quality too, but OpenCV passed max(q, 1) and so do we.
  const auto factor = static_cast<float>(std::clamp(quality, 1, 100));
  const int stride = static_cast<int>(image.step[0]);
  std::uint8_t* data = nullptr;
  const std::size_t size = image.channels() == 4
                               ? WebPEncodeBGRA(image.data, image.cols, image.rows, stride, factor, &data)
                               : WebPEncodeBGR(image.data, image.cols, image.rows, stride, factor, &data);
  const std::unique_ptr<std::uint8_t, WebpFree> owned(data);
  if (size == 0) return Status(ErrorCode::kInternal, "image encoder failed: libwebp could not encode the image");
  return EncodedImage(data, data + size);
}

}  // namespace facefleet::media
