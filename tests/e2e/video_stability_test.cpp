// Temporal stability of video swaps on a static face: the same photo every frame with sensor noise and a
// random 1-px shake. The landmarks the swap is placed with must move less from frame to frame with the
// tracker (detector every 4 frames, interpolation between) and One-Euro smoothing than with per-frame
// detection, and every frame must still get its face swapped. Also `--face-swapper-model none`.
#include <map>
#include <mutex>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "facefleet/engine.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "pipeline/engine_impl.hpp"
#include "pipeline/face_tracker.hpp"
#include "pipeline/video_pipeline.hpp"
#include "support/test_support.hpp"

namespace facefleet {
namespace {

constexpr int kFrames = 40;

// A static-face clip: the photo cropped to 320x256 around its face, shifted by -1/0/+1 px and given Gaussian
// noise (sigma 4) per frame, encoded nearly losslessly so the noise reaches the detector.
void WriteStaticClip(const std::string& path) {
  const cv::Mat photo = testing::LoadBgr(testing::GracePath());
  cv::Mat base;
  cv::resize(photo, base, cv::Size(340, static_cast<int>(340.0 * photo.rows / photo.cols)));
  media::VideoWriteOptions w;
  w.width = 320;
  w.height = 256;
  w.quality = 100;
  w.preset = "ultrafast";
  auto writer = media::VideoWriter::Open(path, w);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  cv::RNG rng(7);
  for (int i = 0; i < kFrames; ++i) {
    const cv::Rect crop(10 + rng.uniform(-1, 2), 10 + rng.uniform(-1, 2), 320, 256);
    cv::Mat frame = base(crop).clone();
    cv::Mat noise(frame.size(), CV_16SC3);
    rng.fill(noise, cv::RNG::NORMAL, 0, 4);
    cv::Mat noisy;
    cv::add(frame, noise, noisy, cv::noArray(), CV_8UC3);
    ASSERT_TRUE((*writer)->Write(noisy).ok());
  }
  ASSERT_TRUE((*writer)->Finish().ok());
}

struct SwapRun {
  std::int64_t frames = 0;
  int swapped = 0;
  std::map<std::int64_t, std::vector<Point2>> landmarks;  // per frame: the largest face's 68 points
};

SwapRun SwapStatic(const std::string& clip, const std::string& output, int interval, bool smoothing) {
  SwapOptions o;
  o.source_paths = {testing::AstronautPath()};
  const cv::Mat source = testing::LoadBgr(testing::AstronautPath());
  auto swapper = testing::SharedEngine().impl().Prepare({&source, 1}, o.source_paths, o, nullptr);
  EXPECT_TRUE(swapper.ok()) << swapper.status().ToString();
  auto reader = media::VideoReader::Open(clip);
  EXPECT_TRUE(reader.ok());
  media::VideoWriteOptions w;
  w.width = 320;
  w.height = 256;
  w.preset = "ultrafast";
  auto writer = media::VideoWriter::Open(output, w);
  EXPECT_TRUE(writer.ok());
  SwapRun run;
  if (!swapper.ok() || !reader.ok() || !writer.ok()) return run;
  std::mutex mutex;
  pipeline::VideoPipelineOptions options;
  options.tracker_interval = interval;
  options.landmark_smoothing = smoothing;
  options.on_faces = [&](std::int64_t frame, const std::vector<Face>& faces) {
    std::vector<Point2> points;
    const auto largest = std::max_element(faces.begin(), faces.end(),
                                          [](const Face& a, const Face& b) { return a.box.area() < b.box.area(); });
    if (largest != faces.end()) points.assign(largest->landmark68.begin(), largest->landmark68.end());
    const std::lock_guard lock(mutex);
    run.landmarks[frame] = std::move(points);
  };
  auto stats = pipeline::RunVideoPipeline(swapper->get(), **reader, **writer, options, {}, nullptr);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (!stats.ok()) return run;
  run.frames = stats->frames;
  run.swapped = stats->swapped_faces;
  return run;
}

double Jitter(const SwapRun& run) {
  std::vector<std::vector<Point2>> frames;
  for (const auto& [frame, points] : run.landmarks) frames.push_back(points);
  return pipeline::MeanLandmarkMotion(frames);
}

TEST(VideoStabilityTest, TrackingAndSmoothingReduceJitterAndSwapEveryFrame) {
  testing::TempDir dir;
  WriteStaticClip(dir.File("static.mp4"));
  const SwapRun raw = SwapStatic(dir.File("static.mp4"), dir.File("raw.mp4"), 1, false);
  const SwapRun stable = SwapStatic(dir.File("static.mp4"), dir.File("stable.mp4"), 4, true);
  for (const SwapRun* run : {&raw, &stable}) {
    EXPECT_EQ(run->frames, kFrames);
    EXPECT_EQ(run->swapped, kFrames) << "one face swapped on every frame";
    ASSERT_EQ(run->landmarks.size(), static_cast<std::size_t>(kFrames));
    for (const auto& [frame, points] : run->landmarks) EXPECT_EQ(points.size(), 68U) << "frame " << frame;
  }
  const double raw_jitter = Jitter(raw);
  const double stable_jitter = Jitter(stable);
  std::cout << "landmark jitter: per-frame detection " << raw_jitter << " px, tracked + smoothed " << stable_jitter
            << " px\n";
  EXPECT_GT(raw_jitter, 0.3) << "the clip must shake the detections, or the comparison proves nothing";
  EXPECT_LT(stable_jitter, 0.6 * raw_jitter);
}

TEST(VideoStabilityTest, TrackerAloneReducesJitter) {
  testing::TempDir dir;
  WriteStaticClip(dir.File("static.mp4"));
  const SwapRun raw = SwapStatic(dir.File("static.mp4"), dir.File("raw.mp4"), 1, false);
  const SwapRun tracked = SwapStatic(dir.File("static.mp4"), dir.File("tracked.mp4"), 4, false);
  EXPECT_EQ(tracked.swapped, kFrames);
  EXPECT_LT(Jitter(tracked), Jitter(raw));
}

TEST(VideoStabilityTest, SwapperNoneTranscodesWithoutTouchingFaces) {
  testing::TempDir dir;
  WriteStaticClip(dir.File("static.mp4"));
  SwapOptions o;
  o.source_paths = {testing::AstronautPath()};
  o.target_path = dir.File("static.mp4");
  o.output_path = dir.File("copy.mp4");
  o.face_swapper_model = "none";
  o.output_video_quality = 100;
  auto report = testing::SharedEngine().SwapVideo(o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->video_frames, kFrames);
  EXPECT_EQ(report->swapped_faces, 0);
  auto in = media::VideoReader::Open(o.target_path);
  auto out = media::VideoReader::Open(o.output_path);
  ASSERT_TRUE(in.ok() && out.ok());
  cv::Mat a, b;
  std::int64_t ia = 0, ib = 0;
  int frames = 0;
  while (*(*in)->Read(a, ia) && *(*out)->Read(b, ib)) {
    EXPECT_GT(cv::PSNR(a, b), 35) << "frame " << ia << " re-encoded, not swapped";
    ++frames;
  }
  EXPECT_EQ(frames, kFrames);
}

}  // namespace
}  // namespace facefleet
