#include "common/flags.hpp"

#include <map>

#include <gtest/gtest.h>

namespace facefleet::apps {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

FlagSet MakeFlags() {
  FlagSet flags("swap", "test");
  flags.Add({"--source", "PATH", "source", "", true});
  flags.Add({"--output-image-quality", "0-100", "quality", "80"});
  flags.Add({"--quiet", "", "quiet", ""});
  return flags;
}

TEST(FlagsTest, EnvNameFollowsFlagName) {
  EXPECT_EQ(FlagSet::EnvName("--output-image-quality"), "FACEFLEET_OUTPUT_IMAGE_QUALITY");
  EXPECT_EQ(FlagSet::EnvName("--source"), "FACEFLEET_SOURCE");
}

TEST(FlagsTest, CommandLineBeatsEnvironmentBeatsDefault) {
  auto flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({}, FakeEnv({})).ok());
  EXPECT_EQ(flags.Get("--output-image-quality"), "80");

  flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({}, FakeEnv({{"FACEFLEET_OUTPUT_IMAGE_QUALITY", "55"}})).ok());
  EXPECT_EQ(flags.Get("--output-image-quality"), "55");

  flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({"--output-image-quality=90"}, FakeEnv({{"FACEFLEET_OUTPUT_IMAGE_QUALITY", "55"}})).ok());
  EXPECT_EQ(flags.Get("--output-image-quality"), "90");
}

TEST(FlagsTest, RepeatableFlagsCollectValuesAndEnvSplitsOnCommas) {
  auto flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({"--source", "a.jpg", "--source", "b.jpg"}, FakeEnv({})).ok());
  EXPECT_EQ(flags.GetAll("--source"), (std::vector<std::string>{"a.jpg", "b.jpg"}));
  flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({}, FakeEnv({{"FACEFLEET_SOURCE", "x.png,y.png"}})).ok());
  EXPECT_EQ(flags.GetAll("--source"), (std::vector<std::string>{"x.png", "y.png"}));
}

TEST(FlagsTest, BooleanSwitchTakesNoValue) {
  auto flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({"--quiet", "--source", "a"}, FakeEnv({})).ok());
  EXPECT_TRUE(flags.GetBool("--quiet"));
  EXPECT_EQ(flags.Get("--source"), "a");
}

TEST(FlagsTest, ErrorsAreUsageErrorsNamingTheFlag) {
  auto flags = MakeFlags();
  Status status = flags.Parse({"--sorce", "a"}, FakeEnv({}));
  EXPECT_EQ(status.code(), ErrorCode::kUsage);
  EXPECT_NE(status.message().find("--sorce"), std::string::npos);
  flags = MakeFlags();
  status = flags.Parse({"--source"}, FakeEnv({}));
  EXPECT_NE(status.message().find("needs a value"), std::string::npos);
  flags = MakeFlags();
  status = flags.Parse({"stray.jpg"}, FakeEnv({}));
  EXPECT_NE(status.message().find("unexpected argument stray.jpg"), std::string::npos);
}

TEST(FlagsTest, GetIntChecksSyntaxAndRange) {
  auto flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({"--output-image-quality", "101"}, FakeEnv({})).ok());
  EXPECT_FALSE(flags.GetInt("--output-image-quality", 0, 100).ok());
  flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({"--output-image-quality", "9x"}, FakeEnv({})).ok());
  auto bad = flags.GetInt("--output-image-quality", 0, 100);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("integer"), std::string::npos);
  flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({"--output-image-quality", "42"}, FakeEnv({})).ok());
  EXPECT_EQ(*flags.GetInt("--output-image-quality", 0, 100), 42);
}

TEST(FlagsTest, HelpShowsDefaultsAndEnvironmentVariables) {
  auto flags = MakeFlags();
  ASSERT_TRUE(flags.Parse({"--help"}, FakeEnv({})).ok());
  EXPECT_TRUE(flags.HelpRequested());
  const std::string help = flags.Help();
  EXPECT_NE(help.find("[default: 80]"), std::string::npos);
  EXPECT_NE(help.find("[env: FACEFLEET_OUTPUT_IMAGE_QUALITY]"), std::string::npos);
}

}  // namespace
}  // namespace facefleet::apps
