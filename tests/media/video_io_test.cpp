// VideoReader / VideoWriter on clips generated in the test: metadata, order, trim, rotation, encoders,
// truncation and bad input.
#include <filesystem>

#include <gtest/gtest.h>

#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "support/test_support.hpp"
#include "support/test_video.hpp"

namespace facefleet::media {
namespace {

using testing::TestVideoSpec;

class VideoIoTest : public ::testing::Test {
 protected:
  std::string Clip(const std::string& name, const TestVideoSpec& spec) {
    const std::string path = dir_.File(name);
    testing::WriteTestVideo(path, photo_, spec);
    return path;
  }
  // Every frame's stamp, in the order Read returns them.
  static std::vector<int> Stamps(VideoReader& reader) {
    std::vector<int> stamps;
    cv::Mat frame;
    std::int64_t index = 0;
    while (true) {
      auto more = reader.Read(frame, index);
      EXPECT_TRUE(more.ok()) << more.status().ToString();
      if (!more.ok() || !*more) break;
      EXPECT_EQ(testing::ReadStamp(frame), static_cast<int>(index));
      stamps.push_back(testing::ReadStamp(frame));
    }
    return stamps;
  }

  testing::TempDir dir_;
  cv::Mat photo_ = testing::LoadBgr(testing::GracePath());
};

std::vector<int> Range(int from, int to) {
  std::vector<int> out;
  for (int i = from; i < to; ++i) out.push_back(i);
  return out;
}

TEST_F(VideoIoTest, ReaderReportsMetadataAndFramesInOrder) {
  TestVideoSpec spec;
  spec.frames = 40;
  auto reader = VideoReader::Open(Clip("clip.mp4", spec));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const VideoInfo& info = (*reader)->info();
  EXPECT_EQ(info.width, 320);
  EXPECT_EQ(info.height, 256);
  EXPECT_EQ(info.frame_count, 40);
  EXPECT_DOUBLE_EQ(info.fps(), 25.0);
  EXPECT_NEAR(info.duration_s, 1.6, 0.05);
  EXPECT_EQ(info.codec, "h264");
  EXPECT_TRUE(info.has_audio);
  EXPECT_EQ(Stamps(**reader), Range(0, 40));
  EXPECT_FALSE((*reader)->truncated());
}

TEST_F(VideoIoTest, TrimReturnsOnlyTheRangeAndRejectsRangesOutside) {
  TestVideoSpec spec;
  spec.frames = 30;
  spec.audio = false;
  const std::string path = Clip("clip.mp4", spec);
  auto reader = VideoReader::Open(path, 10, 20);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_FALSE((*reader)->info().has_audio);
  EXPECT_NEAR((*reader)->start_seconds(), 0.4, 1e-9);
  EXPECT_NEAR((*reader)->end_seconds(), 0.8, 1e-9);
  EXPECT_EQ(Stamps(**reader), Range(10, 20));
  for (const auto& [start, end] : {std::pair{30, -1}, std::pair{5, 31}, std::pair{12, 12}}) {
    auto bad = VideoReader::Open(path, start, end);
    ASSERT_FALSE(bad.ok()) << start << "-" << end;
    EXPECT_EQ(bad.status().code(), ErrorCode::kUsage);
    EXPECT_NE(bad.status().message().find("30 frames"), std::string::npos) << bad.status().message();
  }
}

TEST_F(VideoIoTest, RotationMetadataIsApplied) {
  TestVideoSpec spec;
  spec.width = 96;
  spec.height = 64;
  spec.frames = 3;
  spec.audio = false;
  // av_display_rotation_set(90) is the matrix a phone's "rotate=90" tag reads as: players (ffmpeg's autorotate:
  // minus av_display_rotation_get) turn the picture 90 degrees clockwise.
  spec.rotation = 90;
  auto reader = VideoReader::Open(Clip("rotated.mp4", spec));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->info().rotation, 90);
  EXPECT_EQ((*reader)->info().width, 64);
  EXPECT_EQ((*reader)->info().height, 96);
  cv::Mat frame;
  std::int64_t index = -1;
  ASSERT_TRUE(*(*reader)->Read(frame, index));
  ASSERT_EQ(frame.size(), cv::Size(64, 96));
  cv::Mat back;  // undo the clockwise turn: the stamp is in the top-left corner again
  cv::rotate(frame, back, cv::ROTATE_90_COUNTERCLOCKWISE);
  EXPECT_EQ(testing::ReadStamp(back), 0);
  EXPECT_EQ(testing::ReadStamp(frame), -1) << "the stamp moved with the rotation";
}

TEST_F(VideoIoTest, EveryEncoderWritesOddSizesPaddedToEven) {
  struct Case {
    std::string encoder, file, codec;
  };
  for (const Case& c : {Case{"libx264", "a.mp4", "h264"}, Case{"libx265", "b.mov", "hevc"},
                        Case{"libvpx-vp9", "c.webm", "vp9"}, Case{"", "d.mkv", "h264"}}) {
    VideoWriteOptions options;
    options.width = 65;
    options.height = 49;
    options.encoder = c.encoder;
    options.preset = "ultrafast";
    auto writer = VideoWriter::Open(dir_.File(c.file), options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    TestVideoSpec spec{.width = 65, .height = 49, .frames = 6};
    for (int i = 0; i < 6; ++i) ASSERT_TRUE((*writer)->Write(testing::PanZoomFrame(photo_, i, spec)).ok());
    ASSERT_TRUE((*writer)->Finish().ok()) << c.encoder;
    auto reader = VideoReader::Open(dir_.File(c.file));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ((*reader)->info().codec.rfind(c.codec, 0), 0U) << (*reader)->info().codec;
    EXPECT_EQ((*reader)->info().width, 66);
    EXPECT_EQ((*reader)->info().height, 50);
    EXPECT_EQ(Stamps(**reader), Range(0, 6)) << c.encoder;
    const auto facts = testing::ProbeStreams(dir_.File(c.file));
    if (c.encoder == "libx265") {
      EXPECT_EQ(facts.video_tag, MKTAG('h', 'v', 'c', '1'));
    }
    EXPECT_TRUE(facts.audio_codec.empty());
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 4) << "no temporary files left";
}

TEST_F(VideoIoTest, QualityMapsToCrfLikeFaceFusion) {
  EXPECT_EQ(CrfForQuality("libx264", 80), 10);
  EXPECT_EQ(CrfForQuality("libx265", 0), 51);
  EXPECT_EQ(CrfForQuality("libx264", 100), 0);
  EXPECT_EQ(CrfForQuality("libvpx-vp9", 80), 13);
  EXPECT_EQ(CrfForQuality("libvpx-vp9", 0), 63);
}

TEST_F(VideoIoTest, WriterWithoutFinishLeavesNothing) {
  VideoWriteOptions options;
  options.width = 64;
  options.height = 64;
  {
    auto writer = VideoWriter::Open(dir_.File("gone.mp4"), options);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(9))).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
  options.encoder = "libx264";
  auto webm = VideoWriter::Open(dir_.File("x.webm"), options);
  ASSERT_FALSE(webm.ok());
  EXPECT_EQ(webm.status().code(), ErrorCode::kUsage);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(VideoIoTest, TruncatedFileYieldsTheFramesThatDecode) {
  TestVideoSpec spec;
  spec.frames = 40;
  const std::string path = Clip("cut.mp4", spec);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) * 6 / 10);
  auto reader = VideoReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const auto stamps = Stamps(**reader);
  EXPECT_GT(stamps.size(), 5U);
  EXPECT_LT(stamps.size(), 40U);
  EXPECT_EQ(stamps, Range(0, static_cast<int>(stamps.size())));
  EXPECT_TRUE((*reader)->truncated());
}

TEST_F(VideoIoTest, BadInputsFailWithAReason) {
  std::vector<unsigned char> noise(20000);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<unsigned char>((i * 7919 + 13) % 251);
  testing::WriteBytes(dir_.File("noise.mp4"), noise);
  auto r = VideoReader::Open(dir_.File("noise.mp4"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("noise.mp4"), std::string::npos);
  TestVideoSpec audio_only;
  audio_only.video = false;
  r = VideoReader::Open(Clip("sound.mp4", audio_only));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupportedMedia);
  EXPECT_NE(r.status().message().find("no video stream"), std::string::npos) << r.status().message();
  TestVideoSpec empty;
  empty.frames = 0;
  empty.audio = false;
  r = VideoReader::Open(Clip("empty.mkv", empty));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInputUnreadable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("no frames"), std::string::npos) << r.status().message();
}

TEST_F(VideoIoTest, UndecodableCodecIsUnsupportedMediaNamingTheCodec) {
  const std::string path = dir_.File("zzff.avi");
  testing::WriteUndecodableVideo(path);
  ASSERT_TRUE(LooksLikeVideo(path)) << "the container itself is readable";
  auto r = VideoReader::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupportedMedia) << r.status().ToString();
  EXPECT_NE(r.status().message().find("zzff.avi"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("unsupported video codec"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("ZZFF"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace facefleet::media
