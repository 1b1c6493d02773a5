// The neural image pipeline on real photos with generated models (identity, constant-colour, linear).
#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "facefleet/engine.hpp"
#include "model_gen.hpp"
#include "models/registry.hpp"
#include "pipeline/classic_swapper.hpp"
#include "pipeline/face_align.hpp"
#include "pipeline/face_selector.hpp"
#include "support/test_support.hpp"

namespace facefleet {
namespace {

using testing::LoadBgr;
using testing::ToImage;
using testing::ToMat;

const models::ModelInfo& Info(std::string_view name) { return *models::FindModel(name); }

class NeuralSwapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(modelgen::WriteLinearRecognizer(Info("arcface_w600k_r50"), 5, File("arcface_w600k_r50")).ok());
  }
  std::string File(std::string_view name) { return dir_.File(std::string(Info(name).file)); }
  std::unique_ptr<Engine> MakeEngine() {
    EngineOptions options;
    options.models_dir = dir_.path().string();
    options.classic_detector_size = 1600;  // the three-face row is 1450 px wide
    auto engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok());
    return std::move(*engine);
  }
  Result<cv::Mat> Swap(const cv::Mat& source, const cv::Mat& target, const SwapOptions& options) {
    const std::vector<Image> sources = {ToImage(source)};
    auto out = MakeEngine()->Swap(sources, ToImage(target), options);
    if (!out.ok()) return out.status();
    return ToMat(*out);
  }
  testing::TempDir dir_;
};

// An identity swapper returns its target crop; pasting it back must reproduce the photo.
TEST_F(NeuralSwapTest, IdentitySwapperReproducesTheTarget) {
  ASSERT_TRUE(
      modelgen::WriteIdentitySwapper(Info("inswapper_128"), std::vector<float>(512 * 512, 0.01F), File("inswapper_128"))
          .ok());
  ASSERT_TRUE(modelgen::WriteIdentitySwapper(Info("hyperswap_1a_256"), {}, File("hyperswap_1a_256")).ok());
  const cv::Mat target = LoadBgr(testing::GracePath());
  // At 512 px the crop resamples the ~150 px face up and back down with little loss (at the models' own 128/256 px
  // the round trip alone costs a few dB).
  for (const auto& [model, boost] : {std::pair{"inswapper_128", 512}, std::pair{"hyperswap_1a_256", 512}}) {
    SwapOptions options;
    options.face_swapper_model = model;
    options.face_swapper_pixel_boost = boost;
    auto out = Swap(LoadBgr(testing::AstronautPath()), target, options);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_GE(testing::Psnr(*out, target), 40.0) << model;
  }
}

// A constant-colour swapper: inside the pasted crop the face takes the colour, outside nothing changes.
TEST_F(NeuralSwapTest, ConstantSwapperPaintsOnlyTheMaskedCrop) {
  ASSERT_TRUE(modelgen::WriteConstantSwapper(Info("hyperswap_1a_256"), {1.0F, -1.0F, -1.0F},  // RGB red after de-norm
                                             File("hyperswap_1a_256"))
                  .ok());
  const cv::Mat target = LoadBgr(testing::AstronautPath());
  SwapOptions options;
  options.face_swapper_model = "hyperswap_1a_256";
  options.face_mask_blur = 0.0F;  // hard box mask: 1 px zero border only
  auto out = Swap(LoadBgr(testing::GracePath()), target, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Where the crop lands: the target face's alignment, projected back.
  auto faces = testing::SharedEngine().Analyze(ToImage(target));
  ASSERT_TRUE(faces.ok() && !faces->empty());
  const Face& face = pipeline::LargestFace(*faces);
  const cv::Mat affine = pipeline::EstimateAlignment(face.landmark5, *models::FindWarpTemplate("arcface_128"), 256);
  cv::Mat inverse;
  cv::invertAffineTransform(affine, inverse);
  std::vector<cv::Point2f> corners = {{8, 8}, {248, 8}, {248, 248}, {8, 248}}, quad;
  cv::transform(corners, quad, inverse);
  cv::Mat inside = cv::Mat::zeros(target.size(), CV_8U);
  std::vector<cv::Point> polygon(quad.begin(), quad.end());
  cv::fillConvexPoly(inside, polygon, cv::Scalar(255));
  EXPECT_LT(cv::norm(cv::mean(*out, inside) - cv::Scalar(0, 0, 255)), 2.0) << "face not painted red";
  std::vector<cv::Point2f> outer_corners = {{-2, -2}, {258, -2}, {258, 258}, {-2, 258}}, outer;
  cv::transform(outer_corners, outer, inverse);
  cv::Mat touched = cv::Mat::zeros(target.size(), CV_8U);
  std::vector<cv::Point> outer_polygon(outer.begin(), outer.end());
  cv::fillConvexPoly(touched, outer_polygon, cv::Scalar(255));
  EXPECT_TRUE(std::isinf(testing::Psnr(*out, target, touched == 0))) << "pixels outside the crop changed";
}

// Three faces (astronaut, Grace Hopper, astronaut again): reference mode at position 0 swaps the faces whose
// linear-map embedding matches the reference: both astronauts, not Grace.
TEST_F(NeuralSwapTest, ReferenceModeSwapsFacesMatchingTheReferenceEmbedding) {
  ASSERT_TRUE(
      modelgen::WriteConstantSwapper(Info("hyperswap_1a_256"), {1.0F, -1.0F, -1.0F}, File("hyperswap_1a_256")).ok());
  const cv::Mat astronaut = LoadBgr(testing::AstronautPath());
  cv::Mat grace;
  cv::resize(LoadBgr(testing::GracePath()), grace, cv::Size(512 * 512 / 600, 512));
  cv::Mat row(512, 1024 + grace.cols, CV_8UC3, cv::Scalar::all(255));
  astronaut.copyTo(row(cv::Rect(0, 0, 512, 512)));
  grace.copyTo(row(cv::Rect(512, 0, grace.cols, 512)));
  astronaut.copyTo(row(cv::Rect(512 + grace.cols, 0, 512, 512)));
  SwapOptions options;
  options.face_swapper_model = "hyperswap_1a_256";
  options.face_selector_mode = FaceSelectorMode::kReference;
  // Top to bottom: the two astronaut faces (same height) come first, so position 0 is an astronaut; Grace's
  // face (distance 0.22 with this linear map) and a false HOG face on the mission patch (0.35) come later.
  options.face_selector_order = FaceSelectorOrder::kTopBottom;
  options.reference_face_position = 0;
  options.reference_face_distance = 0.05F;
  auto out = Swap(grace, row, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto redness = [&](int x0, int width) {
    const cv::Scalar m = cv::mean((*out)(cv::Rect(x0, 0, width, 512)) - row(cv::Rect(x0, 0, width, 512)));
    return m[2];
  };
  EXPECT_GT(redness(0, 512), 2.0);
  EXPECT_LT(redness(512, grace.cols), 0.5) << "Grace is not the reference person";
  EXPECT_GT(redness(512 + grace.cols, 512), 2.0);
}

TEST_F(NeuralSwapTest, IdentityEnhancerAtFullBlendKeepsThePhoto) {
  ASSERT_TRUE(modelgen::WriteIdentityEnhancer(Info("gfpgan_1.4"), File("gfpgan_1.4")).ok());
  ASSERT_TRUE(modelgen::WriteIdentityEnhancer(Info("codeformer"), File("codeformer")).ok());
  const cv::Mat target = LoadBgr(testing::GracePath());
  for (const char* enhancer : {"gfpgan_1.4", "codeformer"}) {
    SwapOptions options;  // classic swapper + a neural enhancer
    options.face_enhancer_model = enhancer;
    options.face_enhancer_blend = 100;
    auto classic_only = Swap(LoadBgr(testing::AstronautPath()), target, SwapOptions{});
    auto enhanced = Swap(LoadBgr(testing::AstronautPath()), target, options);
    ASSERT_TRUE(enhanced.ok()) << enhanced.status().ToString();
    EXPECT_GE(testing::Psnr(*enhanced, *classic_only), 38.0) << enhancer;
  }
}

TEST_F(NeuralSwapTest, MissingModelNamesTheFileAndHowToGetIt) {
  SwapOptions options;
  options.face_swapper_model = "simswap_256";
  auto out = Swap(LoadBgr(testing::GracePath()), LoadBgr(testing::AstronautPath()), options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kModelUnavailable);
  EXPECT_NE(out.status().message().find("facefleet models pull"), std::string::npos) << out.status().message();
}

TEST(PixelBoostTest, SplitAndMergeRoundTripExactly) {
  cv::Mat crop(512, 512, CV_8UC3);
  cv::randu(crop, 0, 256);
  const auto tiles = pipeline::SplitPixelBoost(crop, 128);
  ASSERT_EQ(tiles.size(), 16U);
  EXPECT_EQ(tiles[5].at<cv::Vec3b>(7, 9), crop.at<cv::Vec3b>(7 * 4 + 1, 9 * 4 + 1));  // tile (a=1, b=1)
  EXPECT_EQ(cv::norm(pipeline::MergePixelBoost(tiles, 512), crop, cv::NORM_INF), 0);
}

TEST(MaskTest, BoxMaskBordersAndCombination) {
  // blur 0: a 1-px zero border (blur_area = max(0 / 2, 1)); padding 10 % top on 100 px = 10 rows.
  const cv::Mat box = pipeline::BoxMask(cv::Size(100, 100), 0.0F, {10, 0, 0, 0});
  EXPECT_EQ(box.at<float>(9, 50), 0.0F);
  EXPECT_EQ(box.at<float>(10, 50), 1.0F);
  EXPECT_EQ(box.at<float>(50, 0), 0.0F);
  EXPECT_EQ(box.at<float>(50, 1), 1.0F);
  EXPECT_EQ(box.at<float>(99, 50), 0.0F);
  EXPECT_EQ(cv::countNonZero(box), 89 * 98);
  // blur 0.3 on 100 px: blur_amount 15, zero border 7 px, Gaussian sigma 3.75.
  const cv::Mat soft = pipeline::BoxMask(cv::Size(100, 100), 0.3F, {0, 0, 0, 0});
  // Zero for x < 7, one from x = 7: after the blur, x = 3 holds Phi((3 - 6.5) / 3.75) = 0.175.
  EXPECT_NEAR(soft.at<float>(50, 3), 0.175F, 0.01F);
  EXPECT_NEAR(soft.at<float>(50, 50), 1.0F, 1e-3);
  cv::Mat half(100, 100, CV_32F, cv::Scalar(0.5));
  const std::vector<cv::Mat> both = {box, half};
  const cv::Mat combined = pipeline::CombineMasks(both);
  EXPECT_FLOAT_EQ(combined.at<float>(50, 50), 0.5F);
  EXPECT_FLOAT_EQ(combined.at<float>(5, 50), 0.0F);
  // Soften: a wide region of ones stays 1 in its middle; zero far away; (clip(.5, 1) - .5) * 2 in between.
  cv::Mat region = cv::Mat::zeros(100, 100, CV_32F);
  region(cv::Rect(20, 20, 60, 60)).setTo(1);
  const cv::Mat softened = pipeline::SoftenMask(region);
  EXPECT_NEAR(softened.at<float>(50, 50), 1.0F, 1e-4);
  EXPECT_EQ(softened.at<float>(50, 5), 0.0F);
  // First pixel of the region: blur gives Phi(0.5 / 5) = 0.540, so (0.540 - 0.5) * 2 = 0.080.
  EXPECT_NEAR(softened.at<float>(50, 20), 0.0797F, 0.003F);
}

}  // namespace
}  // namespace facefleet

namespace facefleet {
namespace {

// `facefleet swap --face-swapper-model inswapper_128` end to end, with generated models in a temporary
// models directory: identity swapper + identity enhancer must give back the target photo.
TEST(NeuralCliTest, SwapsRealPhotosWithGeneratedModels) {
  testing::TempDir dir;
  const auto file = [&](std::string_view name) { return dir.File(std::string(models::FindModel(name)->file)); };
  ASSERT_TRUE(modelgen::WriteIdentitySwapper(*models::FindModel("inswapper_128"), std::vector<float>(512 * 512, 0.02F),
                                             file("inswapper_128"))
                  .ok());
  ASSERT_TRUE(
      modelgen::WriteLinearRecognizer(*models::FindModel("arcface_w600k_r50"), 2, file("arcface_w600k_r50")).ok());
  ASSERT_TRUE(modelgen::WriteIdentityEnhancer(*models::FindModel("gfpgan_1.4"), file("gfpgan_1.4")).ok());
  const std::string out = dir.File("out.png");
  const auto r = testing::RunProcess({FACEFLEET_CLI_PATH,
                                      "swap",
                                      "--source",
                                      testing::AstronautPath(),
                                      "--target",
                                      testing::GracePath(),
                                      "--output",
                                      out,
                                      "--face-swapper-model",
                                      "inswapper_128",
                                      "--face-swapper-pixel-boost",
                                      "512x512",
                                      "--face-enhancer-model",
                                      "gfpgan_1.4",
                                      "--face-enhancer-blend",
                                      "100",
                                      "--models-dir",
                                      dir.path().string(),
                                      "--execution-providers",
                                      "cuda,cpu"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(testing::Psnr(testing::LoadBgr(out), testing::LoadBgr(testing::GracePath())), 38.0);
}

}  // namespace
}  // namespace facefleet
