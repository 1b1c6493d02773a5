// The classic landmarker reads dlib's 68-point model with its own flat reader (models/dlib_ert.hpp); these
// tests hold it to dlib's own reader and predictor, point for point, and check its fallbacks.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "facefleet/options.hpp"
#include "models/dlib_ert.hpp"
#include "models/face_models.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::models {
namespace {

const std::string kModel = EngineOptions{}.shape_predictor_path;

std::vector<std::uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const std::string& path, std::span<const std::uint8_t> bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// The faces the HOG detector finds, plus boxes around them shifted half out of the image and shrunk, so the
// feature pixels also land outside the image (where both must read 0).
std::vector<Box> BoxesFor(const cv::Mat& image) {
  auto faces = CreateDlibHogDetector(640)->Detect(image);
  EXPECT_TRUE(faces.ok() && !faces->empty());
  std::vector<Box> boxes;
  for (const Detection& d : *faces) {
    boxes.push_back(d.box);
    boxes.push_back({-d.box.width / 2, d.box.y, d.box.width, d.box.height});
    boxes.push_back({d.box.x + 5, d.box.y + 7, d.box.width * 0.6F, d.box.height * 0.6F});
  }
  return boxes;
}

void ExpectSameLandmarks(const std::vector<Landmarks68Scored>& a, const std::vector<Landmarks68Scored>& b,
                         const std::string& label) {
  ASSERT_EQ(a.size(), b.size()) << label;
  for (std::size_t f = 0; f < a.size(); ++f) {
    for (std::size_t p = 0; p < 68; ++p) {
      EXPECT_EQ(a[f].points[p].x, b[f].points[p].x) << label << " box " << f << " point " << p;
      EXPECT_EQ(a[f].points[p].y, b[f].points[p].y) << label << " box " << f << " point " << p;
    }
  }
}

TEST(DlibShapePredictorTest, FlatReaderGivesDlibsLandmarksExactly) {
  auto flat = CreateDlibShapePredictor(kModel);
  auto reference = CreateDlibShapePredictorWithDlibReader(kModel);
  ASSERT_TRUE(flat.ok()) << flat.status().ToString();
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  for (const char* photo : {FACEFLEET_SAMPLE_GRACE, FACEFLEET_SAMPLE_ASTRONAUT}) {
    const cv::Mat image = cv::imread(photo);
    ASSERT_FALSE(image.empty()) << photo;
    const std::vector<Box> boxes = BoxesFor(image);
    auto a = (*flat)->Landmark(image, boxes);
    auto b = (*reference)->Landmark(image, boxes);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), boxes.size());
    ExpectSameLandmarks(*a, *b, photo);
  }
}

TEST(DlibShapePredictorTest, FlatReaderRefusesWhatItDoesNotUnderstand) {
  const std::vector<std::uint8_t> bytes = ReadBytes(kModel);
  ASSERT_GT(bytes.size(), 1000U);
  EXPECT_NE(FlatShapePredictor::Read(bytes), nullptr);
  std::vector<std::uint8_t> other_version = bytes;
  other_version[1] = 2;  // version: control byte 0x01, then the value 1
  EXPECT_EQ(FlatShapePredictor::Read(other_version), nullptr);
  EXPECT_EQ(FlatShapePredictor::Read(std::span(bytes).first(bytes.size() / 2)), nullptr);  // truncated
  std::vector<std::uint8_t> trailing = bytes;
  trailing.push_back(0);
  EXPECT_EQ(FlatShapePredictor::Read(trailing), nullptr);
  EXPECT_EQ(FlatShapePredictor::Read({}), nullptr);
}

TEST(DlibShapePredictorTest, FilesTheFlatReaderRefusesFallBackToDlibsReader) {
  testing::TempDir dir;
  const std::vector<std::uint8_t> bytes = ReadBytes(kModel);
  // Truncated: dlib's reader is tried too, and its error names the file.
  WriteBytes(dir.File("cut.dat"), std::span(bytes).first(bytes.size() / 2));
  auto cut = CreateDlibShapePredictor(dir.File("cut.dat"));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), ErrorCode::kModelUnavailable);
  EXPECT_NE(cut.status().message().find("cut.dat: invalid shape predictor file"), std::string::npos)
      << cut.status().message();
  // Trailing bytes: refused by the flat reader, read fine by dlib's (which stops after the model).
  std::vector<std::uint8_t> trailing = bytes;
  trailing.push_back(0);
  WriteBytes(dir.File("trailing.dat"), trailing);
  auto fallback = CreateDlibShapePredictor(dir.File("trailing.dat"));
  ASSERT_TRUE(fallback.ok()) << fallback.status().ToString();
  const cv::Mat image = cv::imread(FACEFLEET_SAMPLE_ASTRONAUT);
  const std::vector<Box> boxes = BoxesFor(image);
  auto a = (*fallback)->Landmark(image, boxes);
  auto b = (*CreateDlibShapePredictor(kModel))->Landmark(image, boxes);
  ASSERT_TRUE(a.ok() && b.ok());
  ExpectSameLandmarks(*a, *b, "fallback");
}

}  // namespace
}  // namespace facefleet::models
