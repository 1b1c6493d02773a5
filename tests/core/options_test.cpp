#include "facefleet/options.hpp"

#include <gtest/gtest.h>

namespace facefleet {
namespace {

SwapOptions Valid() {
  SwapOptions options;
  options.source_paths = {"s.jpg"};
  options.target_path = "t.jpg";
  options.output_path = "o.jpg";
  return options;
}

TEST(OptionsTest, ParsesEveryFaceFusionSelectorName) {
  for (const auto name : FaceSelectorOrderNames()) EXPECT_TRUE(ParseFaceSelectorOrder(name).ok()) << name;
  EXPECT_EQ(*ParseFaceSelectorOrder("right-left"), FaceSelectorOrder::kRightLeft);
  EXPECT_EQ(*ParseFaceSelectorOrder("worst-best"), FaceSelectorOrder::kWorstBest);
  EXPECT_EQ(*ParseFaceSelectorMode("many"), FaceSelectorMode::kMany);
  EXPECT_EQ(*ParseFaceSelectorMode("reference"), FaceSelectorMode::kReference);
  EXPECT_EQ(*ParseClassicBlend("poisson"), ClassicBlend::kPoisson);
}

TEST(OptionsTest, UnknownNameListsValidOnes) {
  auto mode = ParseFaceSelectorMode("all");
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.status().code(), ErrorCode::kUsage);
  EXPECT_NE(mode.status().message().find("'all'"), std::string::npos);
  EXPECT_NE(mode.status().message().find("one, many, reference"), std::string::npos);
}

TEST(OptionsTest, ValidatesRanges) {
  EXPECT_TRUE(ValidateSwapOptions(Valid()).ok());
  auto options = Valid();
  options.output_image_quality = 101;
  EXPECT_EQ(ValidateSwapOptions(options).code(), ErrorCode::kUsage);
  options = Valid();
  options.source_paths.clear();
  EXPECT_EQ(ValidateSwapOptions(options).code(), ErrorCode::kUsage);
  options = Valid();
  options.face_swapper_pixel_boost = 300;  // not a power of two
  EXPECT_NE(ValidateSwapOptions(options).message().find("pixel-boost"), std::string::npos);
  options = Valid();
  options.face_mask_types = {"box", "blob"};
  EXPECT_NE(ValidateSwapOptions(options).message().find("'blob'"), std::string::npos);
  options = Valid();
  options.face_mask_padding = {0, 101, 0, 0};
  EXPECT_EQ(ValidateSwapOptions(options).code(), ErrorCode::kUsage);
  options = Valid();
  options.face_swapper_weight = 1.5F;
  EXPECT_EQ(ValidateSwapOptions(options).code(), ErrorCode::kUsage);
  options = Valid();
  options.max_image_pixels = 0;
  EXPECT_EQ(ValidateSwapOptions(options).code(), ErrorCode::kUsage);
}

}  // namespace
}  // namespace facefleet
