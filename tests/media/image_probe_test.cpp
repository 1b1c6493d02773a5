#include "media/image_probe.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

namespace facefleet::media {
namespace {

std::vector<std::uint8_t> Encode(const std::string& ext, const cv::Mat& image, std::vector<int> params = {}) {
  std::vector<std::uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes, params));
  return bytes;
}

struct ProbeCase {
  std::string ext;
  int channels;
  std::vector<int> params;
  ImageFormat format;
};

TEST(ImageProbeTest, ReadsDimensionsOfEveryFormatAndVariant) {
  const std::vector<ProbeCase> cases = {
      {".jpg", 3, {}, ImageFormat::kJpeg},
      {".jpg", 3, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, ImageFormat::kJpeg},
      {".png", 3, {}, ImageFormat::kPng},
      {".png", 4, {}, ImageFormat::kPng},
      {".webp", 3, {cv::IMWRITE_WEBP_QUALITY, 80}, ImageFormat::kWebp},   // VP8 (lossy)
      {".webp", 3, {cv::IMWRITE_WEBP_QUALITY, 101}, ImageFormat::kWebp},  // VP8L (lossless)
      {".webp", 4, {cv::IMWRITE_WEBP_QUALITY, 80}, ImageFormat::kWebp},   // VP8X (alpha)
      {".bmp", 3, {}, ImageFormat::kBmp},
  };
  for (const auto& c : cases) {
    const cv::Mat image(37, 53, CV_8UC(c.channels), cv::Scalar(10, 20, 30, 255));
    auto header = ProbeImage(Encode(c.ext, image, c.params));
    ASSERT_TRUE(header.ok()) << c.ext << " " << header.status().ToString();
    EXPECT_EQ(header->format, c.format) << c.ext;
    EXPECT_EQ(header->width, 53) << c.ext;
    EXPECT_EQ(header->height, 37) << c.ext;
  }
}

TEST(ImageProbeTest, NamesCommonUnsupportedFormats) {
  const std::string gif = "GIF89a\x10\x00\x10\x00";
  auto header = ProbeImage({reinterpret_cast<const std::uint8_t*>(gif.data()), gif.size()});
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), ErrorCode::kUnsupportedMedia);
  EXPECT_NE(header.status().message().find("GIF"), std::string::npos);
}

TEST(ImageProbeTest, TextAndRandomBytesAreUnsupportedMedia) {
  const std::string text = "hello, this is not an image\n";
  auto header = ProbeImage({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  EXPECT_EQ(header.status().code(), ErrorCode::kUnsupportedMedia);
  std::vector<std::uint8_t> noise(4096);
  cv::RNG rng(7);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 256);
  noise[0] = 0x42;  // make sure it does not start like a JPEG by chance
  EXPECT_EQ(ProbeImage(noise).status().code(), ErrorCode::kUnsupportedMedia);
}

TEST(ImageProbeTest, EmptyAndCutHeadersAreUnreadable) {
  EXPECT_EQ(ProbeImage({}).status().code(), ErrorCode::kInputUnreadable);
  auto png = Encode(".png", cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(0)));
  png.resize(14);
  EXPECT_EQ(ProbeImage(png).status().code(), ErrorCode::kInputUnreadable);
  auto jpg = Encode(".jpg", cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(0)));
  jpg.resize(20);  // inside the JFIF APP0 segment, before the frame header
  EXPECT_EQ(ProbeImage(jpg).status().code(), ErrorCode::kInputUnreadable);
}

TEST(ImageProbeTest, JpegCompletenessNeedsEndMarkerAfterScan) {
  auto jpg = Encode(".jpg", cv::Mat(64, 64, CV_8UC3, cv::Scalar(1, 100, 200)));
  EXPECT_TRUE(JpegIsComplete(jpg));
  jpg.resize(jpg.size() * 3 / 4);
  EXPECT_FALSE(JpegIsComplete(jpg));
}

TEST(ImageProbeTest, OutputFormatFromExtension) {
  EXPECT_EQ(*FormatFromExtension("a/b/out.JPEG"), ImageFormat::kJpeg);
  EXPECT_EQ(*FormatFromExtension("x.webp"), ImageFormat::kWebp);
  auto gif = FormatFromExtension("out.gif");
  ASSERT_FALSE(gif.ok());
  EXPECT_EQ(gif.status().code(), ErrorCode::kUsage);
  EXPECT_NE(gif.status().message().find(".gif"), std::string::npos);
  EXPECT_FALSE(FormatFromExtension("dir.png/noext").ok());
}

}  // namespace
}  // namespace facefleet::media
