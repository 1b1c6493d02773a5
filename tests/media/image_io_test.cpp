#include "media/image_io.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sys/stat.h>

#include "support/test_support.hpp"

// jpeglib.h needs <cstdio> first (FILE, size_t).
#include <jpeglib.h>

namespace facefleet::media {
namespace {

using facefleet::testing::TempDir;

std::vector<std::uint8_t> Encode(const std::string& ext, const cv::Mat& image) {
  std::vector<std::uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes));
  return bytes;
}

// A JPEG of a 40x20 image (left half red, right half blue) with an EXIF APP1 segment saying
// Orientation = 6 ("rotate 90 degrees clockwise to display").
std::vector<std::uint8_t> RotatedJpeg() {
  cv::Mat image(20, 40, CV_8UC3, cv::Scalar(255, 0, 0));
  image(cv::Rect(0, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));
  auto jpg = Encode(".jpg", image);
  const std::vector<std::uint8_t> exif = {
      0xFF, 0xE1, 0x00, 0x22, 'E',  'x',  'i',  'f',  0,    0,           // APP1, length 34, "Exif\0\0"
      'M',  'M',  0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,                    // big-endian TIFF, IFD at 8
      0x00, 0x01,                                                        // one entry
      0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0, 0,  // Orientation SHORT = 6
      0x00, 0x00, 0x00, 0x00};                                           // no next IFD
  jpg.insert(jpg.begin() + 2, exif.begin(), exif.end());
  return jpg;
}

TEST(ImageIoTest, AppliesJpegExifOrientation) {
  auto image = DecodeImage(RotatedJpeg(), 1'000'000);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->cols, 20);
  ASSERT_EQ(image->rows, 40);
  const cv::Vec3b top = image->at<cv::Vec3b>(5, 10);
  const cv::Vec3b bottom = image->at<cv::Vec3b>(35, 10);
  EXPECT_GT(top[2], 200);  // red (image-left half) is now on top
  EXPECT_GT(bottom[0], 200);
}

TEST(ImageIoTest, KeepsPngAlphaAndNormalisesDepthAndGrey) {
  cv::Mat bgra(16, 16, CV_8UC4, cv::Scalar(10, 20, 30, 77));
  auto decoded = DecodeImage(Encode(".png", bgra), 1000);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->channels(), 4);
  EXPECT_EQ(decoded->at<cv::Vec4b>(3, 3)[3], 77);

  cv::Mat deep(8, 8, CV_16UC3, cv::Scalar(65535, 0, 32896));
  decoded = DecodeImage(Encode(".png", deep), 1000);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->type(), CV_8UC3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 128));

  cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(99));
  decoded = DecodeImage(Encode(".png", grey), 1000);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->type(), CV_8UC3);
}

// A 300-byte file whose header claims 100000 x 100000 pixels is refused before any decoder runs.
TEST(ImageIoTest, RefusesDecompressionBombFromHeaderAlone) {
  auto png = Encode(".png", cv::Mat(1, 1, CV_8UC3, cv::Scalar::all(0)));
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = (i == 1) ? 0x01 : (i == 2 ? 0x86 : (i == 3 ? 0xA0 : 0x00));  // 100000 = 0x000186A0
    png[20 + i] = png[16 + i];
  }
  auto decoded = DecodeImage(png, 40'000'000);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_NE(decoded.status().message().find("100000x100000"), std::string::npos);
  EXPECT_NE(decoded.status().message().find("--max-image-pixels"), std::string::npos);
}

TEST(ImageIoTest, TruncatedFilesAreUnreadable) {
  cv::Mat image(64, 64, CV_8UC3);
  cv::randu(image, 0, 255);
  for (const std::string ext : {".jpg", ".png", ".webp"}) {
    auto bytes = Encode(ext, image);
    bytes.resize(bytes.size() / 2);
    auto decoded = DecodeImage(bytes, 1'000'000);
    ASSERT_FALSE(decoded.ok()) << ext;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kInputUnreadable) << ext;
  }
}

TEST(ImageIoTest, ReadErrorsNameTheFile) {
  TempDir dir;
  auto missing = ReadImage(dir.File("nope.jpg"), 1000);
  EXPECT_EQ(missing.status().code(), ErrorCode::kInputUnreadable);
  EXPECT_NE(missing.status().message().find("nope.jpg: file not found"), std::string::npos);
  facefleet::testing::WriteBytes(dir.File("empty.png"), {});
  auto empty = ReadImage(dir.File("empty.png"), 1000);
  EXPECT_NE(empty.status().message().find("empty.png: file is empty"), std::string::npos);
  facefleet::testing::WriteBytes(dir.File("fake.jpg"), {'h', 'e', 'l', 'l', 'o'});
  auto fake = ReadImage(dir.File("fake.jpg"), 1000);
  EXPECT_EQ(fake.status().code(), ErrorCode::kUnsupportedMedia);
  EXPECT_NE(fake.status().message().find("fake.jpg:"), std::string::npos);
}

TEST(ImageIoTest, AtomicWriteLeavesOnlyTheCompleteFile) {
  TempDir dir;
  const std::string path = dir.File("out.bin");
  facefleet::testing::WriteBytes(path, {'o', 'l', 'd'});
  const std::vector<std::uint8_t> data(100'000, 0xAB);
  ASSERT_TRUE(WriteFileAtomic(path, data).ok());
  EXPECT_EQ(facefleet::testing::ReadBytes(path), data);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1) << "temporary file left behind";
}

TEST(ImageIoTest, OutputPathChecksFailFast) {
  TempDir dir;
  EXPECT_TRUE(CheckOutputPath(dir.File("ok.png")).ok());
  EXPECT_EQ(CheckOutputPath(dir.File("out.gif")).code(), ErrorCode::kUsage);
  const Status missing = CheckOutputPath(dir.File("missing/out.png"));
  EXPECT_EQ(missing.code(), ErrorCode::kOutputFailed);
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos);
  std::filesystem::create_directory(dir.File("sub.png"));
  EXPECT_EQ(CheckOutputPath(dir.File("sub.png")).code(), ErrorCode::kOutputFailed);
  if (::geteuid() != 0) {  // root ignores directory permissions
    std::filesystem::create_directory(dir.File("ro"));
    ::chmod(dir.File("ro").c_str(), 0500);
    EXPECT_NE(CheckOutputPath(dir.File("ro/out.png")).message().find("not writable"), std::string::npos);
  }
}

TEST(ImageIoTest, EncodeDropsAlphaForJpegAndKeepsItForPng) {
  cv::Mat bgra(8, 8, CV_8UC4, cv::Scalar(1, 2, 3, 50));
  auto jpg = EncodeImage(bgra, ImageFormat::kJpeg, 90);
  ASSERT_TRUE(jpg.ok());
  EXPECT_EQ(cv::imdecode(*jpg, cv::IMREAD_UNCHANGED).channels(), 3);
  auto png = EncodeImage(bgra, ImageFormat::kPng, 90);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(cv::imdecode(*png, cv::IMREAD_UNCHANGED).at<cv::Vec4b>(0, 0)[3], 50);
}

// ---- The codecs against OpenCV's (tests only link libopencv_imgcodecs; the library does not) ----------------

// A real photo with odd dimensions, so rows need padding (BMP) and strides differ from the width.
cv::Mat PhotoCrop() {
  return facefleet::testing::LoadBgr(facefleet::testing::AstronautPath())(cv::Rect(180, 40, 157, 93)).clone();
}

cv::Mat WithAlpha(const cv::Mat& bgr) {
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) bgra.at<cv::Vec4b>(y, x)[3] = static_cast<std::uint8_t>(64 + (x + y) % 150);
  }
  return bgra;
}

cv::Mat OpenCvDecode(const std::vector<std::uint8_t>& bytes, int flags = cv::IMREAD_UNCHANGED) {
  return cv::imdecode(bytes, flags);
}

bool SameImage(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

TEST(ImageCodecsTest, LosslessFormatsRoundTripExactlyBothWays) {
  const cv::Mat bgr = PhotoCrop();
  const cv::Mat bgra = WithAlpha(bgr);
  for (const auto& [format, ext, image] :
       {std::tuple{ImageFormat::kPng, ".png", bgr}, std::tuple{ImageFormat::kPng, ".png", bgra},
        std::tuple{ImageFormat::kBmp, ".bmp", bgr}}) {
    SCOPED_TRACE(std::string(ext) + " channels " + std::to_string(image.channels()));
    auto ours = EncodeImage(image, format, 90);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    EXPECT_TRUE(SameImage(OpenCvDecode(*ours), image));
    auto decoded = DecodeImage(Encode(ext, image), 1'000'000);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(SameImage(*decoded, image));
  }
}

TEST(ImageCodecsTest, LossyFormatsRoundTripBothWays) {
  const cv::Mat bgr = PhotoCrop();
  for (const auto& [format, ext, params] :
       {std::tuple{ImageFormat::kJpeg, ".jpg", std::vector<int>{cv::IMWRITE_JPEG_QUALITY, 90}},
        std::tuple{ImageFormat::kWebp, ".webp", std::vector<int>{cv::IMWRITE_WEBP_QUALITY, 90}}}) {
    SCOPED_TRACE(ext);
    auto ours = EncodeImage(bgr, format, 90);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    const cv::Mat theirs = OpenCvDecode(*ours);
    ASSERT_EQ(theirs.type(), CV_8UC3);
    EXPECT_GT(facefleet::testing::Psnr(theirs, bgr), 30.0);
    // The same library decodes OpenCV's file: the pixels must be identical to OpenCV's own decode.
    std::vector<std::uint8_t> bytes;
    ASSERT_TRUE(cv::imencode(ext, bgr, bytes, params));
    auto decoded = DecodeImage(bytes, 1'000'000);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(SameImage(*decoded, OpenCvDecode(bytes, cv::IMREAD_COLOR)));
    // Quality is honoured, and 0 is accepted.
    auto low = EncodeImage(bgr, format, 0);
    ASSERT_TRUE(low.ok()) << low.status().ToString();
    EXPECT_LT(low->size(), ours->size() / 2);
    EXPECT_GT(facefleet::testing::Psnr(OpenCvDecode(*low), bgr), 15.0);
  }
}

TEST(ImageCodecsTest, JpegVariantsDecodeLikeOpenCv) {
  const cv::Mat bgr = PhotoCrop();
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  for (const auto& [name, image, params] :
       {std::tuple{"grey", grey, std::vector<int>{}},
        std::tuple{"progressive", bgr, std::vector<int>{cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
        std::tuple{"restart intervals", bgr, std::vector<int>{cv::IMWRITE_JPEG_RST_INTERVAL, 4}}}) {
    SCOPED_TRACE(name);
    std::vector<std::uint8_t> bytes;
    ASSERT_TRUE(cv::imencode(".jpg", image, bytes, params));
    auto decoded = DecodeImage(bytes, 1'000'000);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(SameImage(*decoded, OpenCvDecode(bytes, cv::IMREAD_COLOR)));
  }
}

TEST(ImageCodecsTest, WebpKeepsAlphaAndBmpDropsIt) {
  const cv::Mat bgra = WithAlpha(PhotoCrop());
  auto webp = EncodeImage(bgra, ImageFormat::kWebp, 90);
  ASSERT_TRUE(webp.ok());
  const cv::Mat theirs = OpenCvDecode(*webp);
  ASSERT_EQ(theirs.channels(), 4);
  cv::Mat alpha_in, alpha_out;
  cv::extractChannel(bgra, alpha_in, 3);
  cv::extractChannel(theirs, alpha_out, 3);
  EXPECT_EQ(cv::norm(alpha_in, alpha_out, cv::NORM_INF), 0);  // alpha is stored losslessly
  auto decoded = DecodeImage(*webp, 1'000'000);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(SameImage(*decoded, theirs));

  auto bmp = EncodeImage(bgra, ImageFormat::kBmp, 90);
  ASSERT_TRUE(bmp.ok());
  EXPECT_EQ((*bmp)[28], 24);  // bits per pixel
  cv::Mat bgr;
  cv::cvtColor(bgra, bgr, cv::COLOR_BGRA2BGR);
  EXPECT_TRUE(SameImage(OpenCvDecode(*bmp), bgr));
}

// 16-bit samples become round(v / 257), exactly as NormalizeDecoded does with OpenCV's 16-bit decode.
TEST(ImageCodecsTest, DeepAndGreyPngMatchOpenCvNormalised) {
  cv::Mat deep(37, 53, CV_16UC3);
  cv::randu(deep, 0, 65536);
  deep.at<cv::Vec3w>(0, 0) = cv::Vec3w(0, 65535, 128);  // 128 / 257 rounds down, 129 / 257 rounds up
  deep.at<cv::Vec3w>(0, 1) = cv::Vec3w(129, 32896, 65407);
  cv::Mat deep_alpha;
  cv::cvtColor(deep, deep_alpha, cv::COLOR_BGR2BGRA);
  cv::Mat deep_grey(37, 53, CV_16UC1);
  cv::randu(deep_grey, 0, 65536);
  cv::Mat grey(37, 53, CV_8UC1);
  cv::randu(grey, 0, 256);
  for (const cv::Mat& image : {deep, deep_alpha, deep_grey, grey}) {
    SCOPED_TRACE("type " + std::to_string(image.type()));
    const auto bytes = Encode(".png", image);
    auto decoded = DecodeImage(bytes, 1'000'000);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(SameImage(*decoded, NormalizeDecoded(OpenCvDecode(bytes))));
  }
}

TEST(ImageCodecsTest, DamagedDeepPngIsUnreadableAndSilent) {
  cv::Mat deep(64, 64, CV_16UC3);
  cv::randu(deep, 0, 65536);
  auto bytes = Encode(".png", deep);
  auto corrupt = bytes;
  corrupt.at(corrupt.size() / 2) ^= 0x55U;  // inside IDAT: the chunk's CRC no longer matches
  auto truncated = bytes;
  truncated.resize(bytes.size() - 20);  // cut off in the last IDAT chunk
  for (const auto& damaged : {corrupt, truncated}) {
    ::testing::internal::CaptureStderr();
    auto decoded = DecodeImage(damaged, 1'000'000);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), ErrorCode::kInputUnreadable);
    EXPECT_NE(decoded.status().message().find("corrupt or truncated PNG data ("), std::string::npos)
        << decoded.status().message();
  }
}

TEST(ImageCodecsTest, BmpVariantsWrittenByOpenCvDecodeLikeOpenCv) {
  const cv::Mat bgr = PhotoCrop();
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  for (const cv::Mat& image : {grey, bgr, WithAlpha(bgr)}) {  // 8-bit palette, 24-bit, 32-bit
    SCOPED_TRACE("channels " + std::to_string(image.channels()));
    const auto bytes = Encode(".bmp", image);
    auto decoded = DecodeImage(bytes, 1'000'000);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(SameImage(*decoded, OpenCvDecode(bytes, cv::IMREAD_COLOR)));
  }
}

// A BMP with a BITMAPINFOHEADER; `extra` (palette or masks) follows the header, then the rows.
std::vector<std::uint8_t> HandMadeBmp(int width, int height, int bits, std::uint32_t compression,
                                      const std::vector<std::uint8_t>& extra, const std::vector<std::uint8_t>& rows) {
  std::array<std::uint8_t, 54> header{'B', 'M'};
  const auto put = [&](std::size_t at, std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i) header.at(at + i) = static_cast<std::uint8_t>(v >> (8 * i));
  };
  put(2, static_cast<std::uint32_t>(54 + extra.size() + rows.size()), 4);
  put(10, static_cast<std::uint32_t>(54 + extra.size()), 4);
  put(14, 40, 4);
  put(18, static_cast<std::uint32_t>(width), 4);
  put(22, static_cast<std::uint32_t>(height), 4);
  put(26, 1, 2);
  put(28, static_cast<std::uint32_t>(bits), 2);
  put(30, compression, 4);
  std::vector<std::uint8_t> out(header.begin(), header.end());
  for (const auto& part : {extra, rows}) std::copy(part.begin(), part.end(), std::back_inserter(out));
  return out;
}

TEST(ImageCodecsTest, HandMadeBmpVariants) {
  // 4-bit palette, top-down (negative height), 3x2: indexes 0 1 2 / 2 1 0, rows padded to 4 bytes.
  const std::vector<std::uint8_t> palette = {255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0};  // blue, green, red
  auto bmp = HandMadeBmp(3, -2, 4, 0, palette, {0x01, 0x20, 0, 0, 0x21, 0x00, 0, 0});
  auto decoded = DecodeImage(bmp, 1000);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), cv::Size(3, 2));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 2), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(decoded->at<cv::Vec3b>(1, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(decoded->at<cv::Vec3b>(1, 1), cv::Vec3b(0, 255, 0));

  // 16-bit RGB565 (BI_BITFIELDS), bottom-up, 2x1: red, then green.
  const std::vector<std::uint8_t> masks = {0x00, 0xF8, 0, 0, 0xE0, 0x07, 0, 0, 0x1F, 0x00, 0, 0};
  bmp = HandMadeBmp(2, 1, 16, 3, masks, {0x00, 0xF8, 0xE0, 0x07});
  decoded = DecodeImage(bmp, 1000);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 1), cv::Vec3b(0, 255, 0));

  // RLE8 is refused by name; rows that end after the file are a truncated file.
  decoded = DecodeImage(HandMadeBmp(2, 2, 8, 1, palette, {0, 0, 0, 0}), 1000);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kUnsupportedMedia);
  EXPECT_NE(decoded.status().message().find("BMP compression RLE8 is not supported"), std::string::npos)
      << decoded.status().message();
  decoded = DecodeImage(HandMadeBmp(4, 4, 24, 0, {}, std::vector<std::uint8_t>(40, 0)), 1000);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kInputUnreadable);
}

// A JPEG of `image` with an EXIF APP1 segment holding Orientation = `orientation` in either byte order.
std::vector<std::uint8_t> JpegWithOrientation(const cv::Mat& image, int orientation, bool little_endian) {
  auto jpg = Encode(".jpg", image);
  const auto o = static_cast<std::uint8_t>(orientation);
  const std::vector<std::uint8_t> tiff =
      little_endian ? std::vector<std::uint8_t>{'I', 'I', 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3,
                                                0,   1,   0,    0, 0, o, 0, 0, 0, 0, 0,    0,    0}
                    : std::vector<std::uint8_t>{'M', 'M', 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0,
                                                3,   0,   0, 0,    1, 0, o, 0, 0, 0, 0,    0,    0};
  std::vector<std::uint8_t> app1 = {0xFF, 0xE1, 0, static_cast<std::uint8_t>(2 + 6 + tiff.size()), 'E', 'x', 'i',
                                    'f',  0,    0};
  app1.insert(app1.end(), tiff.begin(), tiff.end());
  jpg.insert(jpg.begin() + 2, app1.begin(), app1.end());
  return jpg;
}

TEST(ImageCodecsTest, AllExifOrientationsMatchOpenCv) {
  cv::Mat image(24, 40, CV_8UC3, cv::Scalar(255, 0, 0));  // four quadrants of different colours
  image(cv::Rect(0, 0, 20, 12)).setTo(cv::Scalar(0, 0, 255));
  image(cv::Rect(20, 12, 20, 12)).setTo(cv::Scalar(0, 255, 0));
  image(cv::Rect(0, 12, 20, 12)).setTo(cv::Scalar(255, 255, 255));
  for (int orientation = 1; orientation <= 8; ++orientation) {
    for (const bool little_endian : {true, false}) {
      SCOPED_TRACE("orientation " + std::to_string(orientation) + (little_endian ? " II" : " MM"));
      const auto jpg = JpegWithOrientation(image, orientation, little_endian);
      auto decoded = DecodeImage(jpg, 1'000'000);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      EXPECT_EQ(decoded->cols, orientation >= 5 ? 24 : 40);
      EXPECT_TRUE(SameImage(*decoded, OpenCvDecode(jpg, cv::IMREAD_COLOR)));
    }
  }
}

TEST(ImageCodecsTest, CorruptJpegScanDataIsUnreadableAndSilent) {
  auto jpg = Encode(".jpg", PhotoCrop());
  std::size_t scan = 2;
  while (!(jpg[scan] == 0xFF && jpg[scan + 1] == 0xDA)) scan += 2 + ((jpg[scan + 2] << 8U) | jpg[scan + 3]);
  scan += 2 + ((jpg[scan + 2] << 8U) | jpg[scan + 3]);  // first byte of entropy-coded data
  const std::size_t middle = (scan + jpg.size()) / 2;
  for (std::size_t i = 0; i < 32; i += 2) {  // stuffed 0xFF bytes: a run of 1 bits, which no valid code has
    jpg[middle + i] = 0xFF;
    jpg[middle + i + 1] = 0x00;
  }
  ::testing::internal::CaptureStderr();
  auto decoded = DecodeImage(jpg, 1'000'000);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), ErrorCode::kInputUnreadable);
  EXPECT_NE(decoded.status().message().find("corrupt JPEG data (Corrupt JPEG data: "), std::string::npos)
      << decoded.status().message();
}

// Some encoders leave a byte or two before the end-of-image marker; such files decode, as they did with OpenCV.
TEST(ImageCodecsTest, JpegWithAFewStrayBytesBeforeTheEndDecodes) {
  const auto clean = Encode(".jpg", PhotoCrop());
  auto jpg = clean;
  jpg.insert(jpg.end() - 2, {0x00, 0x00});
  ::testing::internal::CaptureStderr();
  auto decoded = DecodeImage(jpg, 1'000'000);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameImage(*decoded, OpenCvDecode(clean, cv::IMREAD_COLOR)));
}

// A CMYK JPEG as Adobe writes them (inverted: 255 = no ink), stored as CMYK or as YCCK.
std::vector<std::uint8_t> CmykJpeg(const cv::Mat& inverted_cmyk, J_COLOR_SPACE stored_as) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr errors{};
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(inverted_cmyk.cols);
  cinfo.image_height = static_cast<JDIMENSION>(inverted_cmyk.rows);
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, stored_as);  // writes the Adobe marker that says so
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPLE*>(inverted_cmyk.ptr(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<std::uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);
  return bytes;
}

TEST(ImageCodecsTest, CmykAndYcckJpegBecomeBgr) {
  // Inverted CMYK stripes: red (no cyan), green (no magenta), blue (no yellow), 50 % grey (half black ink).
  cv::Mat cmyk(32, 64, CV_8UC4);
  cmyk(cv::Rect(0, 0, 16, 32)).setTo(cv::Scalar(255, 0, 0, 255));
  cmyk(cv::Rect(16, 0, 16, 32)).setTo(cv::Scalar(0, 255, 0, 255));
  cmyk(cv::Rect(32, 0, 16, 32)).setTo(cv::Scalar(0, 0, 255, 255));
  cmyk(cv::Rect(48, 0, 16, 32)).setTo(cv::Scalar(255, 255, 255, 128));
  for (const J_COLOR_SPACE stored_as : {JCS_CMYK, JCS_YCCK}) {
    SCOPED_TRACE(stored_as == JCS_CMYK ? "CMYK" : "YCCK");
    const auto jpg = CmykJpeg(cmyk, stored_as);
    auto decoded = DecodeImage(jpg, 1'000'000);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ASSERT_EQ(decoded->type(), CV_8UC3);
    const auto near = [](cv::Vec3b got, cv::Vec3b want) {
      return cv::norm(cv::Vec3i(got) - cv::Vec3i(want), cv::NORM_INF) <= 3;
    };
    EXPECT_TRUE(near(decoded->at<cv::Vec3b>(16, 8), {0, 0, 255})) << decoded->at<cv::Vec3b>(16, 8);
    EXPECT_TRUE(near(decoded->at<cv::Vec3b>(16, 24), {0, 255, 0})) << decoded->at<cv::Vec3b>(16, 24);
    EXPECT_TRUE(near(decoded->at<cv::Vec3b>(16, 40), {255, 0, 0})) << decoded->at<cv::Vec3b>(16, 40);
    EXPECT_TRUE(near(decoded->at<cv::Vec3b>(16, 56), {128, 128, 128})) << decoded->at<cv::Vec3b>(16, 56);
    EXPECT_GT(facefleet::testing::Psnr(*decoded, OpenCvDecode(jpg, cv::IMREAD_COLOR)), 40.0);
  }
}

}  // namespace
}  // namespace facefleet::media
