// `facefleet swap` as a user runs it: exit codes, one-line errors naming the file, nothing half-written.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "support/test_support.hpp"

namespace facefleet {
namespace {

using testing::RunProcess;
using testing::TempDir;
using testing::WriteBytes;

class CliTest : public ::testing::Test {
 protected:
  testing::ProcessResult Swap(std::vector<std::string> extra, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {FACEFLEET_CLI_PATH, "swap"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProcess(argv, env);
  }
  testing::ProcessResult Swap(const std::string& source, const std::string& target, const std::string& output) {
    return Swap({"--source", source, "--target", target, "--output", output});
  }
  // Exactly one line on stderr that names `file` and contains `reason`, the given exit code, and no output.
  void ExpectError(const testing::ProcessResult& r, int exit_code, const std::string& file, const std::string& reason,
                   const std::string& output) {
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(output)) << "output left behind";
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << "temporary left: " << entry.path();
    }
  }

  std::string Copy(const std::string& from, const std::string& name) {
    std::filesystem::copy_file(from, dir_.File(name));
    return dir_.File(name);
  }

  TempDir dir_;
  const std::string grace_ = testing::GracePath();
  const std::string astronaut_ = testing::AstronautPath();
};

TEST_F(CliTest, SwapsAndPrintsTheOutputPath) {
  const std::string out = dir_.File("result.PNG");
  const auto r = Swap(grace_, astronaut_, out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, out + "\n");
  const cv::Mat image = cv::imread(out);
  EXPECT_EQ(image.size(), cv::imread(astronaut_).size());
}

TEST_F(CliTest, VersionNamesOnnxRuntime) {
  const auto r = RunProcess({FACEFLEET_CLI_PATH, "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("onnxruntime 1."), std::string::npos) << r.out;
}

TEST_F(CliTest, HelpListsFlagsWithEnvironmentVariables) {
  const auto r = Swap({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--face-selector-order"), std::string::npos);
  EXPECT_NE(r.out.find("FACEFLEET_OUTPUT_IMAGE_QUALITY"), std::string::npos);
}

TEST_F(CliTest, InputErrorsExitThree) {
  const std::string out = dir_.File("out.jpg");
  ExpectError(Swap(dir_.File("missing.jpg"), astronaut_, out), 3, "missing.jpg", "file not found", out);
  WriteBytes(dir_.File("empty.jpg"), {});
  ExpectError(Swap(dir_.File("empty.jpg"), astronaut_, out), 3, "empty.jpg", "file is empty", out);
  WriteBytes(dir_.File("notes.jpg"), {'d', 'e', 'a', 'r', ' ', 'd', 'i', 'a', 'r', 'y', '\n'});
  ExpectError(Swap(grace_, dir_.File("notes.jpg"), out), 3, "notes.jpg", "not an image", out);
  std::vector<unsigned char> noise(5000);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<unsigned char>((i * 7919 + 13) % 251);
  WriteBytes(dir_.File("noise.png"), noise);
  ExpectError(Swap(grace_, dir_.File("noise.png"), out), 3, "noise.png", "not an image", out);
  WriteBytes(dir_.File("anim.gif"), {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0});
  ExpectError(Swap(dir_.File("anim.gif"), astronaut_, out), 3, "anim.gif", "GIF is not supported", out);
  ExpectError(Swap(dir_.path().string(), astronaut_, out), 3, dir_.path().string(), "is a directory", out);
}

TEST_F(CliTest, TruncatedImagesExitThree) {
  const std::string out = dir_.File("out.jpg");
  auto jpg = testing::ReadBytes(grace_);
  jpg.resize(jpg.size() / 2);
  WriteBytes(dir_.File("cut.jpg"), jpg);
  ExpectError(Swap(dir_.File("cut.jpg"), astronaut_, out), 3, "cut.jpg", "truncated JPEG", out);
  auto png = testing::ReadBytes(astronaut_);
  png.resize(png.size() / 2);
  WriteBytes(dir_.File("cut.png"), png);
  ExpectError(Swap(grace_, dir_.File("cut.png"), out), 3, "cut.png", "corrupt or truncated PNG", out);
}

TEST_F(CliTest, PixelLimitsExitFive) {
  const std::string out = dir_.File("out.jpg");
  auto bomb = testing::ReadBytes(astronaut_);  // PNG: patch IHDR to claim 60000 x 60000
  const unsigned char size[4] = {0x00, 0x00, 0xEA, 0x60};
  std::copy(size, size + 4, bomb.begin() + 16);
  std::copy(size, size + 4, bomb.begin() + 20);
  WriteBytes(dir_.File("bomb.png"), bomb);
  ExpectError(Swap(grace_, dir_.File("bomb.png"), out), 5, "bomb.png", "over the limit", out);
  ExpectError(Swap({"--source", grace_, "--target", astronaut_, "--output", out, "--max-image-pixels", "1000"}), 5,
              grace_, "--max-image-pixels", out);
}

TEST_F(CliTest, NoFaceExitsFour) {
  const std::string out = dir_.File("out.png");
  cv::Mat plain(200, 200, CV_8UC3, cv::Scalar(90, 120, 150));
  cv::imwrite(dir_.File("wall.png"), plain);
  ExpectError(Swap(dir_.File("wall.png"), astronaut_, out), 4, "wall.png", "no face found in source", out);
  ExpectError(Swap(grace_, dir_.File("wall.png"), out), 4, "wall.png", "no face found in target", out);
}

TEST_F(CliTest, OutputErrorsExitSixAndKeepExistingFile) {
  ExpectError(Swap(grace_, astronaut_, dir_.File("nodir/out.jpg")), 6, "nodir/out.jpg", "does not exist",
              dir_.File("nodir/out.jpg"));
  // A read-only directory: run as an unprivileged user when the tests run as root (root may write anywhere). It
  // keeps CAP_DAC_READ_SEARCH (read and traverse, never write) so that it can still load the binary and its
  // libraries from a checkout under a private directory (mktemp -d is 0700).
  const std::string ro = dir_.File("ro");
  std::filesystem::create_directory(ro);
  std::filesystem::permissions(ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                                       std::filesystem::perms::group_read | std::filesystem::perms::group_exec |
                                       std::filesystem::perms::others_read | std::filesystem::perms::others_exec);
  std::vector<std::string> argv = {FACEFLEET_CLI_PATH, "swap",     "--source", grace_,
                                   "--target",         astronaut_, "--output", ro + "/out.jpg"};
  if (::geteuid() == 0) {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"});
  }
  const auto r = RunProcess(argv);
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find("is not writable"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(ro + "/out.jpg"));
}

TEST_F(CliTest, FailedSwapKeepsAPreviousOutputIntact) {
  const std::string out = dir_.File("keep.jpg");
  WriteBytes(out, {'o', 'l', 'd'});
  cv::imwrite(dir_.File("wall.png"), cv::Mat(120, 120, CV_8UC3, cv::Scalar(1, 2, 3)));
  const auto r = Swap(grace_, dir_.File("wall.png"), out);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(testing::ReadBytes(out), (std::vector<unsigned char>{'o', 'l', 'd'}));
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  const std::string out = dir_.File("out.gif");
  ExpectError(Swap(grace_, astronaut_, out), 2, "out.gif", "unsupported output extension", out);
  const std::string jpg = dir_.File("out.jpg");
  ExpectError(Swap({"--source", grace_, "--output", jpg}), 2, "--target", "required", jpg);
  ExpectError(Swap({"--source", grace_, "--target", astronaut_, "--output", jpg, "--frobnicate"}), 2, "--frobnicate",
              "unknown flag", jpg);
  ExpectError(Swap({"--source", grace_, "--target", astronaut_, "--output", jpg, "--output-image-quality", "101"}), 2,
              "--output-image-quality", "0-100", jpg);
  ExpectError(Swap({"--source", grace_, "--target", astronaut_, "--output", jpg, "--face-selector-order", "up"}), 2,
              "'up'", "left-right", jpg);
  ExpectError(
      Swap({"--source", grace_, "--target", astronaut_, "--output", jpg}, {"FACEFLEET_OUTPUT_IMAGE_QUALITY=high"}), 2,
      "--output-image-quality", "integer", jpg);
  ExpectError(
      Swap({"--source", grace_, "--target", astronaut_, "--output", jpg, "--face-swapper-model", "inswapper_129"}), 2,
      "'inswapper_129'", "inswapper_128, inswapper_128_fp16", jpg);
  ExpectError(Swap({"--source", grace_, "--target", astronaut_, "--output", jpg, "--execution-providers", "rocm"}), 2,
              "'rocm'", "tensorrt, cuda, cpu", jpg);
  const auto r = RunProcess({FACEFLEET_CLI_PATH, "swapp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'swapp'"), std::string::npos);
}

TEST_F(CliTest, MissingModelExitsSeven) {
  const std::string out = dir_.File("out.jpg");
  ExpectError(
      Swap({"--source", grace_, "--target", astronaut_, "--output", out, "--shape-predictor", dir_.File("none.dat")}),
      7, "none.dat", "shape predictor not found", out);
}

TEST_F(CliTest, EnvironmentVariablesSetFlags) {
  const std::string out = dir_.File("env.jpg");
  const auto r = Swap({}, {"FACEFLEET_SOURCE=" + grace_, "FACEFLEET_TARGET=" + astronaut_, "FACEFLEET_OUTPUT=" + out,
                           "FACEFLEET_OUTPUT_IMAGE_QUALITY=30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto low = std::filesystem::file_size(out);
  const auto r2 = Swap({"--source", grace_, "--target", astronaut_, "--output", out, "--output-image-quality", "95"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_GT(std::filesystem::file_size(out), low) << "quality 95 should make a larger JPEG than 30";
}

}  // namespace
}  // namespace facefleet
