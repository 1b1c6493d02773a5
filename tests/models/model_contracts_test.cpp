// Contracts of the companion and mask models (crossface converters, fan_68_5, xseg, bisenet) and of the
// pipeline helpers that use them, each against a hand-computed expectation with generated models.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "facefleet/options.hpp"
#include "model_gen.hpp"
#include "models/onnx_models.hpp"
#include "pipeline/face_align.hpp"
#include "pipeline/neural_swap.hpp"
#include "support/test_support.hpp"

namespace facefleet::models {
namespace {

const ModelInfo& Info(std::string_view name) { return *FindModel(name); }

class ModelContractsTest : public ::testing::Test {
 protected:
  std::string PathOf(std::string_view name) { return dir_.File(std::string(Info(name).file)); }
  LoadOptions Load() const { return {dir_.path().string(), {}}; }
  testing::TempDir dir_;
};

// Converter weights: converted[j] = Scale(j) * raw[(j + 1) % 512] + Bias(j) (a scaled permutation).
float Scale(int j) { return 1.0F + static_cast<float>(j % 3); }
float Bias(int j) { return j % 2 == 0 ? 0.25F : -0.125F; }

std::vector<float> ConverterWeights() {
  std::vector<float> weights(512 * 512, 0.0F);
  for (int j = 0; j < 512; ++j) weights[static_cast<std::size_t>(((j + 1) % 512) * 512 + j)] = Scale(j);
  return weights;
}

std::vector<float> ConverterBias() {
  std::vector<float> bias(512);
  for (int j = 0; j < 512; ++j) bias[static_cast<std::size_t>(j)] = Bias(j);
  return bias;
}

Embedding TestEmbedding() {
  Embedding e{std::vector<float>(512), std::vector<float>(512, 0.0F)};
  for (int i = 0; i < 512; ++i) e.raw[static_cast<std::size_t>(i)] = static_cast<float>(i % 7) - 3.0F + 0.5F;
  return e;
}

std::vector<float> ExpectedConverted(const Embedding& e) {
  std::vector<float> out(512);
  for (int j = 0; j < 512; ++j) {
    out[static_cast<std::size_t>(j)] = Scale(j) * e.raw[static_cast<std::size_t>((j + 1) % 512)] + Bias(j);
  }
  return out;
}

double Norm(const std::vector<float>& v) {
  double sum = 0;
  for (const float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

TEST_F(ModelContractsTest, SimswapSourceIsTheNormalisedConverterOutput) {
  ASSERT_TRUE(modelgen::WriteConstantSwapper(Info("simswap_256"), {0, 0, 0}, PathOf("simswap_256")).ok());
  ASSERT_TRUE(modelgen::WriteLinearModel(Info("crossface_simswap"), ConverterWeights(), ConverterBias(),
                                         PathOf("crossface_simswap"))
                  .ok());
  auto swapper = CreateSwapper(Info("simswap_256"), Load());
  ASSERT_TRUE(swapper.ok()) << swapper.status().ToString();
  const Embedding e = TestEmbedding();
  auto source = (*swapper)->PrepareSource(e);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ASSERT_EQ(source->size(), 512U);
  const std::vector<float> converted = ExpectedConverted(e);
  const double norm = Norm(converted);
  ASSERT_GT(std::abs(norm - 1.0), 1.0);  // normalisation must visibly change the vector
  // By hand: raw[1] = -1.5, so converted[0] = 1 * -1.5 + 0.25 = -1.25; raw[3] = 0.5: converted[2] = 3 * 0.5 + 0.25.
  EXPECT_NEAR((*source)[0], -1.25 / norm, 1e-6);
  EXPECT_NEAR((*source)[2], 1.75 / norm, 1e-6);
  for (std::size_t j = 0; j < 512; ++j) EXPECT_NEAR((*source)[j], converted[j] / norm, 1e-6) << j;
  EXPECT_NEAR(Norm(*source), 1.0, 1e-5);
}

TEST_F(ModelContractsTest, GhostSourceIsTheConverterOutputNotNormalised) {
  ASSERT_TRUE(modelgen::WriteConstantSwapper(Info("ghost_1_256"), {0, 0, 0}, PathOf("ghost_1_256")).ok());
  ASSERT_TRUE(modelgen::WriteLinearModel(Info("crossface_ghost"), ConverterWeights(), ConverterBias(),
                                         PathOf("crossface_ghost"))
                  .ok());
  auto swapper = CreateSwapper(Info("ghost_1_256"), Load());
  ASSERT_TRUE(swapper.ok()) << swapper.status().ToString();
  const Embedding e = TestEmbedding();
  auto source = (*swapper)->PrepareSource(e);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  ASSERT_EQ(source->size(), 512U);
  EXPECT_NEAR((*source)[0], -1.25F, 1e-6);
  EXPECT_NEAR((*source)[1], 2 * -0.5F - 0.125F, 1e-6);  // raw[2] = -0.5, scale 2, bias -0.125
  EXPECT_NEAR((*source)[2], 1.75F, 1e-6);
  const std::vector<float> converted = ExpectedConverted(e);
  for (std::size_t j = 0; j < 512; ++j) EXPECT_NEAR((*source)[j], converted[j], 1e-5) << j;
}

// Constant swapper output v (RGB planes): ghost de-normalises (v * 0.5 + 0.5), simswap does not; both clip to
// [0, 1], scale by 255 and return BGR.
TEST_F(ModelContractsTest, SwapCropDenormalisesGhostButNotSimswap) {
  ASSERT_TRUE(modelgen::WriteLinearModel(Info("crossface_ghost"), ConverterWeights(), ConverterBias(),
                                         PathOf("crossface_ghost"))
                  .ok());
  ASSERT_TRUE(modelgen::WriteLinearModel(Info("crossface_simswap"), ConverterWeights(), ConverterBias(),
                                         PathOf("crossface_simswap"))
                  .ok());
  ASSERT_TRUE(modelgen::WriteConstantSwapper(Info("ghost_1_256"), {0.2F, -0.6F, 1.5F}, PathOf("ghost_1_256")).ok());
  ASSERT_TRUE(modelgen::WriteConstantSwapper(Info("simswap_256"), {0.4F, -0.2F, 1.4F}, PathOf("simswap_256")).ok());
  cv::Mat crop(256, 256, CV_8UC3);
  cv::randu(crop, 0, 256);
  const std::vector<float> source(512, 0.1F);
  // ghost: R = 0.6 * 255 = 153, G = 0.2 * 255 = 51, B = clip(1.25) * 255 = 255.
  // simswap: R = 0.4 * 255 = 102, G = clip(-0.2) = 0, B = clip(1.4) * 255 = 255 (with ImageNet de-normalisation it
  // would be (147, 105, 184)).
  for (const auto& [name, bgr] :
       {std::pair{"ghost_1_256", cv::Vec3b(255, 51, 153)}, std::pair{"simswap_256", cv::Vec3b(255, 0, 102)}}) {
    auto swapper = CreateSwapper(Info(name), Load());
    ASSERT_TRUE(swapper.ok()) << swapper.status().ToString();
    auto out = (*swapper)->SwapCrop(crop, source);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->size(), crop.size());
    ASSERT_EQ(out->type(), CV_8UC3);
    EXPECT_EQ(out->at<cv::Vec3b>(0, 0), bgr) << name;
    EXPECT_EQ(out->at<cv::Vec3b>(200, 37), bgr) << name;
    EXPECT_EQ(cv::norm(*out, cv::Mat(crop.size(), CV_8UC3, cv::Scalar(bgr[0], bgr[1], bgr[2])), cv::NORM_INF), 0)
        << name;
  }
}

// fan_68_5 with point j = normalised input point j % 5: the similarity transform and its inverse must give
// back the frame's own 5 points.
TEST_F(ModelContractsTest, Fan68From5RoundTripsThroughTheTemplateSpace) {
  std::vector<float> weights(10 * 136, 0.0F);
  for (int j = 0; j < 68; ++j) {
    for (int d = 0; d < 2; ++d) weights[static_cast<std::size_t>(((j % 5) * 2 + d) * 136 + j * 2 + d)] = 1.0F;
  }
  ASSERT_TRUE(
      modelgen::WriteLinearModel(Info("fan_68_5"), weights, std::vector<float>(136, 0.0F), PathOf("fan_68_5")).ok());
  auto landmarker = CreateFan68From5(Info("fan_68_5"), Load());
  ASSERT_TRUE(landmarker.ok()) << landmarker.status().ToString();
  // A tilted face far from the origin: a real rotation, scale and translation to undo.
  const std::array<Point2, 5> five = {Point2{412, 230}, {498, 262}, {440, 300}, {400, 352}, {470, 378}};
  auto points = (*landmarker)->Estimate(five);
  ASSERT_TRUE(points.ok()) << points.status().ToString();
  for (int j = 0; j < 68; ++j) {
    EXPECT_NEAR((*points)[j].x, five[j % 5].x, 0.01) << j;
    EXPECT_NEAR((*points)[j].y, five[j % 5].y, 0.01) << j;
  }
}

// xseg output: 1.5 (clipped to 1) in the left half, -0.5 (clipped to 0) in the right half.
std::vector<float> HalfMask() {
  std::vector<float> mask(256 * 256);
  for (int y = 0; y < 256; ++y) {
    for (int x = 0; x < 256; ++x) mask[static_cast<std::size_t>(y * 256 + x)] = x < 128 ? 1.5F : -0.5F;
  }
  return mask;
}

TEST_F(ModelContractsTest, XsegMaskIsClippedAndResizedToTheCrop) {
  ASSERT_TRUE(modelgen::WriteConstantOutputs(Info("xseg_1"), {{{1, 256, 256, 1}, HalfMask()}}, PathOf("xseg_1")).ok());
  auto occluder = CreateXseg(Info("xseg_1"), Load());
  ASSERT_TRUE(occluder.ok()) << occluder.status().ToString();
  cv::Mat crop(512, 512, CV_8UC3);
  cv::randu(crop, 0, 256);
  auto mask = (*occluder)->Occlusion(crop);
  ASSERT_TRUE(mask.ok()) << mask.status().ToString();
  ASSERT_EQ(mask->size(), crop.size());
  ASSERT_EQ(mask->type(), CV_32F);
  EXPECT_EQ(cv::countNonZero(mask->colRange(0, 255) != 1.0F), 0);
  EXPECT_EQ(cv::countNonZero(mask->colRange(257, 512)), 0);
  // Bilinear x2: column 255 samples source 127.25 (1 * 0.75 + 0 * 0.25), column 256 samples 127.75. Clipping
  // before the resize: otherwise 1.5 * 0.75 - 0.5 * 0.25 = 1.
  EXPECT_NEAR(mask->at<float>(100, 255), 0.75F, 1e-5);
  EXPECT_NEAR(mask->at<float>(100, 256), 0.25F, 1e-5);
}

// Through SwapNeuralFace: where the occluder says 0 the frame keeps its pixels; where it says 1 the result is
// the box-only one.
TEST_F(ModelContractsTest, OccludedPixelsKeepTheTarget) {
  ASSERT_TRUE(modelgen::WriteConstantOutputs(Info("xseg_1"), {{{1, 256, 256, 1}, HalfMask()}}, PathOf("xseg_1")).ok());
  ASSERT_TRUE(
      modelgen::WriteConstantSwapper(Info("hyperswap_1a_256"), {1.0F, -1.0F, -1.0F}, PathOf("hyperswap_1a_256")).ok());
  auto occluder = CreateXseg(Info("xseg_1"), Load());
  auto swapper = CreateSwapper(Info("hyperswap_1a_256"), Load());
  ASSERT_TRUE(occluder.ok() && swapper.ok());
  // The target's 5 points are the arcface_128 template at 256 px shifted by (72, 72): the crop is a translation.
  Face face;
  const WarpTemplate& tmpl = *FindWarpTemplate("arcface_128");
  for (std::size_t i = 0; i < 5; ++i) face.landmark5[i] = {tmpl[i][0] * 256 + 72, tmpl[i][1] * 256 + 72};
  cv::Mat frame(400, 400, CV_8UC3);
  cv::randu(frame, 0, 200);
  const pipeline::NeuralModels neural{swapper->get(), nullptr, occluder->get(), nullptr};
  const std::vector<float> source(512, 0.0F);
  SwapOptions options;
  options.face_swapper_model = "hyperswap_1a_256";
  options.face_mask_types = {"box"};
  cv::Mat box_only = frame.clone();
  ASSERT_TRUE(pipeline::SwapNeuralFace(neural, source, face, options, box_only, nullptr).ok());
  options.face_mask_types = {"box", "occlusion"};
  cv::Mat occluded = frame.clone();
  const Status s = pipeline::SwapNeuralFace(neural, source, face, options, occluded, nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  const cv::Mat affine = pipeline::EstimateAlignment(face.landmark5, tmpl, 256);
  ASSERT_NEAR(affine.at<double>(0, 2), -72, 0.5);
  ASSERT_NEAR(affine.at<double>(0, 0), 1, 0.01);
  // Crop columns >= 131 (frame >= 203; the softened mask is 0 from crop column 128): untouched, though the
  // box-only swap painted them.
  const cv::Rect right(203, 82, 100, 236);
  EXPECT_EQ(cv::norm(occluded(right), frame(right), cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(box_only(right), frame(right), cv::NORM_L1) / right.area(), 50.0);
  // Crop columns 40-100 (mask 1 after SoftenMask, up to float rounding): the same as box-only, and painted.
  const cv::Rect left(112, 112, 60, 176);
  EXPECT_LE(cv::norm(occluded(left), box_only(left), cv::NORM_INF), 1);
  EXPECT_GT(cv::norm(occluded(left), frame(left), cv::NORM_L1) / left.area(), 50.0);
}

TEST_F(ModelContractsTest, BisenetSelectsTheArgmaxClasses) {
  // Logits: class 0 is 0.5 everywhere; class 1 (skin) is 1 in the top half, 0 below; the rest 0.
  constexpr std::size_t kPlane = 512 * 512;
  std::vector<float> logits(19 * kPlane, 0.0F);
  std::fill(logits.begin(), logits.begin() + kPlane, 0.5F);
  std::fill(logits.begin() + kPlane, logits.begin() + kPlane + kPlane / 2, 1.0F);
  ASSERT_TRUE(modelgen::WriteConstantOutputs(Info("bisenet_resnet_34"), {{{1, 19, 512, 512}, logits}},
                                             PathOf("bisenet_resnet_34"))
                  .ok());
  auto parser = CreateBisenet(Info("bisenet_resnet_34"), Load());
  ASSERT_TRUE(parser.ok()) << parser.status().ToString();
  cv::Mat crop(256, 256, CV_8UC3);
  cv::randu(crop, 0, 256);
  const std::vector<int> skin = {1};
  auto top = (*parser)->Regions(crop, skin);
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  ASSERT_EQ(top->size(), crop.size());
  // Halving: row y averages model rows 2y and 2y + 1, so rows 0-127 are exactly 1 and 128-255 exactly 0.
  EXPECT_EQ(cv::countNonZero(top->rowRange(0, 128) != 1.0F), 0);
  EXPECT_EQ(cv::countNonZero(top->rowRange(128, 256)), 0);
  const std::vector<int> nose = {10};
  auto none = (*parser)->Regions(crop, nose);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(cv::countNonZero(*none), 0);
  const std::vector<int> background_and_skin = {0, 1};
  auto all = (*parser)->Regions(crop, background_and_skin);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(cv::countNonZero(*all != 1.0F), 0);
}

TEST(RegionClassesTest, NamesMapToBisenetIds) {
  const std::vector<std::string> names = {"skin", "nose", "lower-lip"};
  auto ids = pipeline::RegionClasses(names);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int>{1, 10, 13}));
  const std::vector<std::string> unknown = {"skin", "ear"};
  auto bad = pipeline::RegionClasses(unknown);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kUsage);
  EXPECT_NE(bad.status().message().find("ear"), std::string::npos);
}

TEST(AreaMaskTest, AreasCoverTheirLandmarkHulls) {
  // Mouth (48-67) on an ellipse around (128, 180), radii 40 x 20; upper-face points on a rectangle
  // x 60-196, y 30-100; every other point piled up in a corner.
  std::vector<cv::Point2f> points(68, cv::Point2f(250, 250));
  for (int i = 48; i < 68; ++i) {
    const double angle = 2 * CV_PI * (i - 48) / 20;
    points[static_cast<std::size_t>(i)] = {static_cast<float>(128 + 40 * std::cos(angle)),
                                           static_cast<float>(180 + 20 * std::sin(angle))};
  }
  const std::array<cv::Point2f, 4> corners = {{{60, 30}, {196, 30}, {196, 100}, {60, 100}}};
  int k = 0;
  for (const int i : {0, 1, 2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 31, 32, 33, 34, 35}) {
    points[static_cast<std::size_t>(i)] = corners[static_cast<std::size_t>(k++ % 4)];
  }
  const cv::Size size(256, 256);
  const std::vector<std::string> mouth = {"mouth"};
  const cv::Mat m = pipeline::AreaMask(size, points, mouth);
  ASSERT_EQ(m.size(), size);
  EXPECT_NEAR(m.at<float>(180, 128), 1.0F, 1e-3);  // 20 px (4 sigma) inside the polygon's edge
  EXPECT_NEAR(m.at<float>(180, 105), 1.0F, 1e-2);
  EXPECT_EQ(m.at<float>(60, 128), 0.0F);   // inside the upper face, not selected
  EXPECT_EQ(m.at<float>(180, 200), 0.0F);  // 32 px right of the mouth
  EXPECT_EQ(m.at<float>(230, 128), 0.0F);
  EXPECT_LT(m.at<float>(180, 168), 0.1F);  // the hull's edge: blurred to ~0.5, shaped to ~0
  const std::vector<std::string> both = {"upper-face", "mouth"};
  const cv::Mat u = pipeline::AreaMask(size, points, both);
  EXPECT_NEAR(u.at<float>(65, 128), 1.0F, 1e-3);
  EXPECT_NEAR(u.at<float>(180, 128), 1.0F, 1e-3);
  EXPECT_EQ(u.at<float>(140, 128), 0.0F);  // between the two hulls
}

TEST(BalanceSourceTest, WeightMixesTheTargetEmbedding) {
  const std::vector<float> source = {1, -1, 2, 0};
  const Embedding target{{10, 20, 30, 40}, {0.1F, 0.2F, 0.3F, 0.4F}};
  EXPECT_EQ(pipeline::BalanceSource(source, target, 0.5F, "simswap_256"), source);
  // weight 0: w' = 0.35, source * 0.65 + normalised target * 0.35.
  const auto simswap = pipeline::BalanceSource(source, target, 0.0F, "simswap_256");
  ASSERT_EQ(simswap.size(), 4U);
  EXPECT_NEAR(simswap[0], 0.65 + 0.035, 1e-6);
  EXPECT_NEAR(simswap[1], -0.65 + 0.07, 1e-6);
  EXPECT_NEAR(simswap[2], 1.3 + 0.105, 1e-6);
  EXPECT_NEAR(simswap[3], 0.14, 1e-6);
  // weight 1: w' = -0.35, pushed away from the target.
  const auto away = pipeline::BalanceSource(source, target, 1.0F, "inswapper_128");
  EXPECT_NEAR(away[0], 1.35 - 0.035, 1e-6);
  EXPECT_NEAR(away[2], 2.7 - 0.105, 1e-6);
  // ghost mixes the raw target embedding.
  const auto ghost = pipeline::BalanceSource(source, target, 0.0F, "ghost_2_256");
  EXPECT_NEAR(ghost[0], 0.65 + 3.5, 1e-5);
  EXPECT_NEAR(ghost[1], -0.65 + 7.0, 1e-5);
  EXPECT_NEAR(ghost[3], 14.0, 1e-5);
}

}  // namespace
}  // namespace facefleet::models
