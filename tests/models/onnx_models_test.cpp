// Model contracts proven with generated ONNX models whose outputs are known functions of their inputs.
#include "models/onnx_models.hpp"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "core/log.hpp"
#include "model_gen.hpp"
#include "models/onnx_initializer.hpp"
#include "support/test_support.hpp"

namespace facefleet::models {
namespace {

using testing::TempDir;

const ModelInfo& Info(std::string_view name) { return *FindModel(name); }

class OnnxModelsTest : public ::testing::Test {
 protected:
  std::string PathOf(std::string_view name) { return dir_.File(std::string(Info(name).file)); }
  LoadOptions Load() const { return {dir_.path().string(), {}}; }
  TempDir dir_;
};

// Raw retinaface/scrfd tensors for a 640 input: one face at stride-8 cell (x=10, y=12), anchor 0, score 0.9;
// an overlapping weaker duplicate (anchor 1 of the same cell, 0.8) that NMS must drop; one face under the
// score threshold (0.3) at stride 32.
std::vector<modelgen::ConstantOutput> AnchorTensors() {
  std::vector<modelgen::ConstantOutput> out;
  for (const int width : {1, 4, 10}) {
    for (const int stride : {8, 16, 32}) {
      const std::int64_t n = (640 / stride) * (640 / stride) * 2;
      out.push_back({{n, width}, std::vector<float>(static_cast<std::size_t>(n * width), 0.0F)});
    }
  }
  const std::size_t i = (12 * 80 + 10) * 2;
  out[0].data[i] = 0.9F;
  out[0].data[i + 1] = 0.8F;
  out[2].data[5] = 0.3F;
  const std::array<float, 4> box = {3, 4, 5, 6};  // left, top, right, bottom distances in stride units
  const std::array<float, 4> dup = {3, 4, 5, 5.5F};
  for (int k = 0; k < 4; ++k) out[3].data[i * 4 + k] = box[k], out[3].data[(i + 1) * 4 + k] = dup[k];
  for (int p = 0; p < 10; ++p) out[6].data[i * 10 + p] = 0.5F * static_cast<float>(p);
  return out;
}

TEST_F(OnnxModelsTest, AnchorDetectorDecodesLetterboxedBoxesAndPointsWithNms) {
  for (const char* name : {"scrfd_2.5g", "retinaface_10g"}) {
    ASSERT_TRUE(modelgen::WriteConstantOutputs(Info(name), AnchorTensors(), PathOf(name)).ok());
    auto detector = CreateOnnxDetector(Info(name), Load(), {});
    ASSERT_TRUE(detector.ok()) << detector.status().ToString();
    // 1280 x 960 frame: letterboxed at half size, so detector coordinates double.
    auto found = (*detector)->Detect(cv::Mat(960, 1280, CV_8UC3, cv::Scalar(80, 90, 100)));
    ASSERT_TRUE(found.ok());
    ASSERT_EQ(found->size(), 1U) << name;
    const Detection& d = (*found)[0];
    EXPECT_FLOAT_EQ(d.score, 0.9F);
    // Anchor centre (80, 96); box (80 - 24, 96 - 32) to (80 + 40, 96 + 48), times 2.
    EXPECT_NEAR(d.box.x, 112, 0.5);
    EXPECT_NEAR(d.box.y, 128, 0.5);
    EXPECT_NEAR(d.box.width, 128, 0.5);
    EXPECT_NEAR(d.box.height, 160, 0.5);
    ASSERT_TRUE(d.has_landmark5);
    for (int p = 0; p < 5; ++p) {  // offsets (p, p + 0.5) stride units from the centre
      EXPECT_NEAR(d.landmark5[p].x, (80 + 8 * 1.0F * p) * 2, 0.5) << p;
      EXPECT_NEAR(d.landmark5[p].y, (96 + 8 * (p + 0.5F)) * 2, 0.5) << p;
    }
  }
}

TEST_F(OnnxModelsTest, YolofaceDecodesCentreSizeAndPoints) {
  std::vector<float> raw(20 * 8400, 0.0F);
  const auto set = [&](int row, int i, float v) { raw[static_cast<std::size_t>(row * 8400 + i)] = v; };
  set(0, 100, 320), set(1, 100, 200), set(2, 100, 100), set(3, 100, 120), set(4, 100, 0.95F);
  for (int p = 0; p < 5; ++p) set(5 + p * 3, 100, 300.0F + p), set(6 + p * 3, 100, 190.0F + p);
  set(4, 200, 0.5F);  // exactly the threshold: yoloface keeps scores strictly above it
  ASSERT_TRUE(modelgen::WriteConstantOutputs(Info("yoloface_8n"), {{{1, 20, 8400}, raw}}, PathOf("yoloface_8n")).ok());
  auto detector = CreateOnnxDetector(Info("yoloface_8n"), Load(), {});
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  auto found = (*detector)->Detect(cv::Mat(480, 640, CV_8UC3, cv::Scalar::all(0)));  // no letterbox scaling
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1U);
  EXPECT_NEAR((*found)[0].box.x, 270, 0.5);
  EXPECT_NEAR((*found)[0].box.y, 140, 0.5);
  EXPECT_NEAR((*found)[0].box.width, 100, 0.5);
  EXPECT_NEAR((*found)[0].landmark5[4].x, 304, 0.5);
  EXPECT_NEAR((*found)[0].landmark5[4].y, 194, 0.5);
}

TEST_F(OnnxModelsTest, YunetMultipliesClassAndObjectnessAndExponentiatesSize) {
  std::vector<modelgen::ConstantOutput> out;
  for (const int width : {1, 1, 4, 10}) {
    for (const int stride : {8, 16, 32}) {
      const std::int64_t n = (640 / stride) * (640 / stride);
      out.push_back({{1, n, width}, std::vector<float>(static_cast<std::size_t>(n * width), 0.0F)});
    }
  }
  const std::size_t i = 3 * 40 + 5;                           // stride 16, cell (5, 3): anchor (80, 48)
  out[1].data[i] = 0.9F, out[4].data[i] = 0.8F;               // score 0.72
  out[1].data[i + 1] = 0.9F, out[4].data[i + 1] = 0.5F;       // 0.45: below threshold
  out[7].data[i * 4] = 0.5F, out[7].data[i * 4 + 1] = 0.25F;  // centre (88, 52)
  out[7].data[i * 4 + 2] = std::log(4.0F), out[7].data[i * 4 + 3] = std::log(5.0F);  // 64 x 80
  out[10].data[i * 10] = 1.0F;                                                       // first point (96, 48)
  ASSERT_TRUE(modelgen::WriteConstantOutputs(Info("yunet_2023_mar"), out, PathOf("yunet_2023_mar")).ok());
  auto detector = CreateOnnxDetector(Info("yunet_2023_mar"), Load(), {});
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  auto found = (*detector)->Detect(cv::Mat(640, 640, CV_8UC3, cv::Scalar::all(0)));
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1U);
  EXPECT_NEAR((*found)[0].score, 0.72F, 1e-5);
  EXPECT_NEAR((*found)[0].box.x, 56, 0.5);
  EXPECT_NEAR((*found)[0].box.y, 12, 0.5);
  EXPECT_NEAR((*found)[0].box.height, 80, 0.5);
  EXPECT_NEAR((*found)[0].landmark5[0].x, 96, 0.5);
}

TEST_F(OnnxModelsTest, Fan2dfan4MapsHeatmapUnitsBackToTheFrameWithItsScore) {
  std::vector<float> points(68 * 3);
  for (int i = 0; i < 68; ++i) points[i * 3] = 32, points[i * 3 + 1] = 16;  // crop (128, 64)
  std::vector<float> heat(68 * 64 * 64, 0.0F);
  for (int i = 0; i < 68; ++i) heat[static_cast<std::size_t>(i) * 4096 + 7] = 0.45F;  // mean peak 0.45 -> 0.5
  ASSERT_TRUE(
      modelgen::WriteConstantOutputs(Info("2dfan4"), {{{1, 68, 3}, points}, {{1, 68, 64, 64}, heat}}, PathOf("2dfan4"))
          .ok());
  auto landmarker = CreateFan2dfan4(Info("2dfan4"), Load());
  ASSERT_TRUE(landmarker.ok()) << landmarker.status().ToString();
  const Box box{100, 50, 195, 150};  // scale = 195 / 195 = 1; translation ((256 - 395) / 2, (256 - 250) / 2)
  auto result = (*landmarker)->Landmark(cv::Mat(400, 400, CV_8UC3, cv::Scalar::all(128)), std::span(&box, 1));
  ASSERT_TRUE(result.ok());
  EXPECT_NEAR((*result)[0].points[0].x, 128 + 69.5, 0.01);
  EXPECT_NEAR((*result)[0].points[0].y, 64 - 3, 0.01);
  EXPECT_NEAR((*result)[0].score, 0.5, 1e-4);
}

TEST_F(OnnxModelsTest, EmapIsTheLastInitializerAsWritten) {
  std::vector<float> emap(512 * 512);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float& v : emap) v = dist(rng);
  ASSERT_TRUE(modelgen::WriteIdentitySwapper(Info("inswapper_128"), emap, PathOf("inswapper_128")).ok());
  auto read = ReadLastInitializer(PathOf("inswapper_128"), 512 * 512);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, emap);
  EXPECT_FALSE(ReadLastInitializer(PathOf("inswapper_128"), 100).ok());
}

TEST_F(OnnxModelsTest, InswapperSourceIsFaceFusionsEmapLatent) {
  std::vector<float> emap(512 * 512, 0.0F);
  for (int i = 0; i < 512; ++i) emap[static_cast<std::size_t>(i * 512 + (511 - i))] = 2.0F;  // reverse, times 2
  ASSERT_TRUE(modelgen::WriteIdentitySwapper(Info("inswapper_128"), emap, PathOf("inswapper_128")).ok());
  auto swapper = CreateSwapper(Info("inswapper_128"), Load());
  ASSERT_TRUE(swapper.ok()) << swapper.status().ToString();
  Embedding e{std::vector<float>(512, 0.0F), {}};
  e.raw[0] = 3, e.raw[1] = 4;  // |raw| = 5
  auto latent = (*swapper)->PrepareSource(e);
  ASSERT_TRUE(latent.ok());
  EXPECT_FLOAT_EQ((*latent)[511], 3 * 2 / 5.0F);
  EXPECT_FLOAT_EQ((*latent)[510], 4 * 2 / 5.0F);
  EXPECT_FLOAT_EQ((*latent)[0], 0);
}

TEST_F(OnnxModelsTest, LoadRejectsContractMismatchAndTruncatedFiles) {
  // A 256-px swapper written where inswapper_128 (128 px) is expected.
  ASSERT_TRUE(modelgen::WriteIdentitySwapper(Info("hyperswap_1a_256"), {}, PathOf("inswapper_128")).ok());
  auto wrong = LoadSession(Info("inswapper_128"), Load());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kModelUnavailable);
  EXPECT_NE(wrong.status().message().find("inswapper_128"), std::string::npos);
  EXPECT_NE(wrong.status().message().find("target"), std::string::npos) << wrong.status().message();

  ASSERT_TRUE(modelgen::WriteLinearRecognizer(Info("arcface_w600k_r50"), 1, PathOf("arcface_w600k_r50")).ok());
  auto bytes = testing::ReadBytes(PathOf("arcface_w600k_r50"));
  bytes.resize(bytes.size() / 2);
  testing::WriteBytes(PathOf("arcface_w600k_r50"), bytes);
  auto truncated = LoadSession(Info("arcface_w600k_r50"), Load());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), ErrorCode::kModelUnavailable);
  EXPECT_NE(truncated.status().message().find("arcface_w600k_r50"), std::string::npos);
}

TEST_F(OnnxModelsTest, UnavailableProviderFallsBackToCpuWithOneWarning) {
  ASSERT_TRUE(modelgen::WriteLinearRecognizer(Info("arcface_w600k_r50"), 1, PathOf("arcface_w600k_r50")).ok());
  std::vector<std::string> warnings;
  core::SetLogSink([&](core::LogLevel level, std::string_view message) {
    if (level == core::LogLevel::kWarn) warnings.emplace_back(message);
  });
  LoadOptions load = Load();
  load.runtime.execution_providers = {"tensorrt", "cuda", "cpu"};
  auto first = LoadSession(Info("arcface_w600k_r50"), load);
  auto second = LoadSession(Info("arcface_w600k_r50"), load);
  core::SetLogSink(nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*first)->providers(), std::vector<std::string>{"cpu"});
  // One warning per unavailable provider per process, not per session.
  int cuda = 0;
  for (const auto& w : warnings) cuda += w.find("'cuda'") != std::string::npos ? 1 : 0;
  EXPECT_LE(cuda, 1);
  EXPECT_TRUE(runtime::ValidateProviders({"cuda", "cpu"}).ok());
  EXPECT_EQ(runtime::ValidateProviders({"rocm"}).code(), ErrorCode::kUsage);
}

TEST_F(OnnxModelsTest, RecognizerEmbedsTheAlignedCropThroughTheLinearMap) {
  ASSERT_TRUE(modelgen::WriteLinearRecognizer(Info("arcface_w600k_r50"), 9, PathOf("arcface_w600k_r50")).ok());
  auto recognizer = CreateArcface(Info("arcface_w600k_r50"), Load());
  ASSERT_TRUE(recognizer.ok()) << recognizer.status().ToString();
  const cv::Mat frame = testing::LoadBgr(testing::GracePath());
  std::array<Point2, 5> five = {Point2{190, 230}, {290, 230}, {240, 290}, {200, 340}, {280, 340}};
  auto a = (*recognizer)->Embed(frame, five);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->raw.size(), 512U);
  double norm = 0;
  for (const float v : a->normalized) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  for (auto& p : five) p.x += 40;  // a different crop gives a different embedding
  auto b = (*recognizer)->Embed(frame, five);
  EXPECT_NE(a->raw, b->raw);
}

}  // namespace
}  // namespace facefleet::models
