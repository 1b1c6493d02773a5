// Test videos made in-process with libav (no ffmpeg CLI, no files in the repository): a pan/zoom over a sample
// photo with the frame index stamped into the top-left corner, optionally with a 440 Hz sine audio track and
// rotation metadata. Also small probes of written files.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace facefleet::testing {

struct TestVideoSpec {
  int width = 320;
  int height = 256;
  int fps = 25;
  int frames = 50;
  bool video = true;      // false: an audio-only file
  bool audio = true;      // 440 Hz sine, as long as the video
  int rotation = 0;       // display-matrix rotation written to the stream (counter-clockwise degrees, libav's sign)
  bool faststart = true;  // mp4: index at the front (so a cut-off file still opens)
};

// The frame that WriteTestVideo encodes as frame `index` (before compression).
cv::Mat PanZoomFrame(const cv::Mat& photo, int index, const TestVideoSpec& spec);

// Writes an H.264 (+ AAC) video at `path` (container from the extension). Throws std::runtime_error on failure.
void WriteTestVideo(const std::string& path, const cv::Mat& photo, const TestVideoSpec& spec);

// Writes an AVI whose one video stream has an unknown FourCC ("ZZFF") and `frames` packets of filler bytes:
// a container FFmpeg reads, with a codec no FFmpeg build can decode. Throws std::runtime_error on failure.
void WriteUndecodableVideo(const std::string& path, int frames = 10);

// The index stamped into a frame's top-left 8x8 blocks (-1 when the stamp is unreadable).
int ReadStamp(const cv::Mat& frame);

struct StreamFacts {
  std::string video_codec;   // "" when there is no video stream
  std::string audio_codec;   // "" when there is no audio stream
  unsigned video_tag = 0;    // codec tag (fourcc) of the video stream
  double audio_seconds = 0;  // from the audio packets' timestamps
};
StreamFacts ProbeStreams(const std::string& path);

}  // namespace facefleet::testing
