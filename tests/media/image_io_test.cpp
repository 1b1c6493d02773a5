#include "media/image_io.hpp"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <sys/stat.h>

#include "support/test_support.hpp"

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

}  // namespace
}  // namespace facefleet::media
