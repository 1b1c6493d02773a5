// Engine::SwapVideo and `facefleet swap` on videos generated in the test: frames, audio, order, faces changed
// and background kept, trim, cancellation, progress, and every bad input with its exit code.
#include <signal.h>
#include <spawn.h>

#include <chrono>
#include <filesystem>
#include <stop_token>
#include <thread>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>
#include <sys/wait.h>

#include "facefleet/engine.hpp"
#include "media/video_reader.hpp"
#include "support/test_support.hpp"
#include "support/test_video.hpp"

extern char** environ;  // NOLINT: POSIX; passed to posix_spawn

namespace facefleet {
namespace {

using testing::TestVideoSpec;

std::vector<cv::Mat> ReadAll(const std::string& path) {
  auto reader = media::VideoReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<cv::Mat> frames;
  if (!reader.ok()) return frames;
  cv::Mat frame;
  std::int64_t index = 0;
  while (*(*reader)->Read(frame, index)) frames.push_back(frame);
  return frames;
}

bool NoTemporaryFiles(const std::filesystem::path& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp") != std::string::npos) return false;
  }
  return true;
}

class VideoSwapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const cv::Mat photo = testing::LoadBgr(testing::GracePath());
    testing::WriteTestVideo(dir_->File("clip.mp4"), photo, TestVideoSpec{});
    testing::WriteTestVideo(dir_->File("silent.mp4"), photo, TestVideoSpec{.frames = 12, .audio = false});
  }
  static void TearDownTestSuite() { delete dir_; }

  SwapOptions Options(const std::string& target, const std::string& output) {
    SwapOptions o;
    o.source_paths = {testing::AstronautPath()};
    o.target_path = dir_->File(target);
    o.output_path = dir_->File(output);
    o.output_video_preset = "ultrafast";
    return o;
  }
  testing::ProcessResult Cli(std::vector<std::string> extra) {
    std::vector<std::string> argv = {FACEFLEET_CLI_PATH, "swap", "--source", testing::AstronautPath()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::RunProcess(argv);
  }

  static testing::TempDir* dir_;
};
testing::TempDir* VideoSwapTest::dir_ = nullptr;

TEST_F(VideoSwapTest, SwapsEveryFrameKeepsAudioOrderAndBackground) {
  std::vector<Progress> seen;
  auto report = testing::SharedEngine().SwapVideo(Options("clip.mp4", "out.mp4"), {},
                                                  [&](const Progress& p) { seen.push_back(p); });
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->video_frames, 50);
  EXPECT_GE(report->swapped_faces, 45) << "a face in (nearly) every frame";
  ASSERT_EQ(seen.size(), 50U);
  EXPECT_EQ(seen.back().frames_done, 50);
  EXPECT_EQ(seen.back().frames_total, 50);
  auto reader = media::VideoReader::Open(dir_->File("out.mp4"));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->info().frame_count, 50);
  EXPECT_DOUBLE_EQ((*reader)->info().fps(), 25.0);
  EXPECT_NEAR((*reader)->info().duration_s, 2.0, 0.05);
  const auto facts = testing::ProbeStreams(dir_->File("out.mp4"));
  EXPECT_EQ(facts.video_codec, "h264");
  EXPECT_EQ(facts.audio_codec, "aac") << "aac in mp4 is stream-copied";
  EXPECT_NEAR(facts.audio_seconds, 2.0, 0.1);
  const auto in = ReadAll(dir_->File("clip.mp4"));
  const auto out = ReadAll(dir_->File("out.mp4"));
  ASSERT_EQ(out.size(), 50U);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(testing::ReadStamp(out[i]), static_cast<int>(i));
  for (const std::size_t i : {std::size_t{0}, std::size_t{25}, std::size_t{49}}) {
    auto faces = testing::SharedEngine().Analyze(testing::ToImage(in[i]));
    ASSERT_TRUE(faces.ok() && !faces->empty()) << "frame " << i;
    const Box& b = (*faces)[0].box;
    cv::Mat face_mask = cv::Mat::zeros(in[i].size(), CV_8U);
    cv::rectangle(face_mask, cv::Rect(b.x + b.width * 0.25, b.y + b.height * 0.3, b.width * 0.5, b.height * 0.5), 255,
                  cv::FILLED);
    cv::Mat background(in[i].size(), CV_8U, cv::Scalar(255));
    cv::rectangle(background, cv::Rect(b.x - b.width * 0.3, b.y - b.height * 0.4, b.width * 1.6, b.height * 1.8), 0,
                  cv::FILLED);
    const double face_psnr = testing::Psnr(in[i], out[i], face_mask);
    const double background_psnr = testing::Psnr(in[i], out[i], background);
    EXPECT_GT(background_psnr, 35) << "frame " << i;
    EXPECT_LT(face_psnr, 26) << "frame " << i << ": the face should have changed";
  }
}

TEST_F(VideoSwapTest, TrimKeepsAudioInSync) {
  SwapOptions o = Options("clip.mp4", "out.mkv");
  o.trim_frame_start = 10;
  o.trim_frame_end = 35;
  auto report = testing::SharedEngine().SwapVideo(o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->video_frames, 25);
  const auto out = ReadAll(o.output_path);
  ASSERT_EQ(out.size(), 25U);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(testing::ReadStamp(out[i]), static_cast<int>(i + 10));
  EXPECT_NEAR(testing::ProbeStreams(o.output_path).audio_seconds, 1.0, 0.1);
}

TEST_F(VideoSwapTest, WebmGetsVp9AndOpusAndSilentStaysSilent) {
  auto report = testing::SharedEngine().SwapFiles(Options("clip.mp4", "out.webm"));  // routed by content
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  auto facts = testing::ProbeStreams(dir_->File("out.webm"));
  EXPECT_EQ(facts.video_codec, "vp9");
  EXPECT_EQ(facts.audio_codec, "opus");
  EXPECT_NEAR(facts.audio_seconds, 2.0, 0.1);
  report = testing::SharedEngine().SwapVideo(Options("silent.mp4", "out-silent.mov"));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  facts = testing::ProbeStreams(dir_->File("out-silent.mov"));
  EXPECT_EQ(facts.video_codec, "h264");
  EXPECT_TRUE(facts.audio_codec.empty());
  EXPECT_EQ(ReadAll(dir_->File("out-silent.mov")).size(), 12U);
}

TEST_F(VideoSwapTest, CancellationStopsEarlyAndLeavesNothing) {
  std::stop_source stop;
  std::int64_t last = 0;
  auto report = testing::SharedEngine().SwapVideo(Options("clip.mp4", "out-canceled.mp4"), stop.get_token(),
                                                  [&](const Progress& p) {
                                                    last = p.frames_done;
                                                    if (p.frames_done == 5) stop.request_stop();
                                                  });
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kCanceled);
  EXPECT_LT(last, 50);
  EXPECT_FALSE(std::filesystem::exists(dir_->File("out-canceled.mp4")));
  EXPECT_TRUE(NoTemporaryFiles(dir_->path())) << "no temporary file";
}

// Ctrl-C (SIGINT) in the middle of a video: the swap stops at once, exit 8 (canceled), no output, no temporary.
TEST_F(VideoSwapTest, CliInterruptedBySigintExitsEightAndLeavesNothing) {
  testing::WriteTestVideo(dir_->File("long.mp4"), testing::LoadBgr(testing::GracePath()),
                          TestVideoSpec{.frames = 1500, .audio = false});
  const std::string out = dir_->File("out-interrupted.mp4");
  const std::string cli = FACEFLEET_CLI_PATH, source = testing::AstronautPath(), target = dir_->File("long.mp4");
  std::vector<const char*> argv = {cli.c_str(), "swap",      "--source",   source.c_str(), "--target", target.c_str(),
                                   "--output",  out.c_str(), "--progress", "none",         nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, cli.c_str(), nullptr, nullptr, const_cast<char* const*>(argv.data()), environ), 0);
  // The writer's temporary file appears once frames are being swapped.
  const auto started = std::chrono::steady_clock::now();
  while (NoTemporaryFiles(dir_->path()) && std::chrono::steady_clock::now() - started < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(NoTemporaryFiles(dir_->path())) << "the swap never started writing";
  ASSERT_EQ(kill(pid, SIGINT), 0);
  const auto signalled = std::chrono::steady_clock::now();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(10)) << "stopped promptly";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 8);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(NoTemporaryFiles(dir_->path())) << "no temporary file";
}

TEST_F(VideoSwapTest, CliSwapsVideoWithJsonProgress) {
  const std::string out = dir_->File("out-cli.mp4");
  const auto r = Cli({"--target", dir_->File("silent.mp4"), "--output", out, "--progress", "json",
                      "--output-video-preset", "ultrafast", "--output-video-fps", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, out + "\n");
  EXPECT_NE(r.err.find("\"frames_done\":12,\"frames_total\":12"), std::string::npos) << r.err;
  auto reader = media::VideoReader::Open(out);
  ASSERT_TRUE(reader.ok());
  EXPECT_DOUBLE_EQ((*reader)->info().fps(), 10.0);
  EXPECT_EQ((*reader)->info().frame_count, 5) << "12 frames at 25 fps = 0.48 s = 5 frames at 10 fps";
}

TEST_F(VideoSwapTest, CliBadInputsExitWithDocumentedCodes) {
  const cv::Mat photo = testing::LoadBgr(testing::GracePath());
  testing::WriteTestVideo(dir_->File("sound.mp4"), photo, TestVideoSpec{.video = false});
  testing::WriteTestVideo(dir_->File("empty.mkv"), photo, TestVideoSpec{.frames = 0, .audio = false});
  testing::WriteUndecodableVideo(dir_->File("zzff.avi"));
  std::vector<unsigned char> noise(20000);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<unsigned char>((i * 7919 + 13) % 251);
  testing::WriteBytes(dir_->File("noise.mp4"), noise);
  const std::string out = dir_->File("out-bad.mp4");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string file, reason;
  };
  const std::string clip = dir_->File("clip.mp4");
  const std::vector<Case> cases = {
      {{"--target", dir_->File("sound.mp4")}, 3, "sound.mp4", "no video stream"},
      {{"--target", dir_->File("empty.mkv")}, 3, "empty.mkv", "no frames"},
      {{"--target", dir_->File("noise.mp4")}, 3, "noise.mp4", "not a video"},
      {{"--target", dir_->File("zzff.avi")}, 3, "zzff.avi", "unsupported video codec 'none' (FourCC ZZFF)"},
      {{"--target", dir_->File("zzff.avi"), "--face-swapper-model", "none"}, 3, "zzff.avi", "unsupported video codec"},
      {{"--target", clip, "--trim-frame-start", "60"}, 2, "clip.mp4", "50 frames"},
      {{"--target", clip, "--trim-frame-start", "5", "--trim-frame-end", "3"}, 2, "--trim-frame-end", "after"},
      {{"--target", clip, "--max-video-frames", "20"}, 5, "clip.mp4", "--max-video-frames"},
      {{"--target", clip, "--max-video-seconds", "1"}, 5, "clip.mp4", "--max-video-seconds"},
      {{"--target", clip, "--output-video-encoder", "h264_nvenc"}, 2, "h264_nvenc", "libx264"},
      {{"--target", clip, "--output", dir_->File("out.png")}, 2, "clip.mp4", "is a video"},
      {{"--target", testing::GracePath(), "--output", out}, 2, "grace_hopper.jpg", "is an image"},
      {{"--target", clip, "--output", dir_->File("nodir/out.mp4")}, 6, "nodir/out.mp4", "does not exist"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    if (std::find(args.begin(), args.end(), "--output") == args.end()) args.insert(args.end(), {"--output", out});
    const auto r = Cli(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.reason << ": " << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.reason), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
  EXPECT_TRUE(NoTemporaryFiles(dir_->path())) << "no temporary file";
}

TEST_F(VideoSwapTest, TruncatedVideoSwapsWhatDecodesWithAWarning) {
  const std::string cut = dir_->File("cut.mp4");
  std::filesystem::copy_file(dir_->File("silent.mp4"), cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) * 7 / 10);
  const std::string out = dir_->File("out-cut.mp4");
  const auto r = Cli({"--target", cut, "--output", out, "--output-video-preset", "ultrafast"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("cut.mp4: video is truncated or corrupt"), std::string::npos) << r.err;
  const auto frames = ReadAll(out);
  EXPECT_GT(frames.size(), 2U);
  EXPECT_LT(frames.size(), 12U);
}

}  // namespace
}  // namespace facefleet
