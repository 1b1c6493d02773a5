// VideoReader: demux + decode one video stream into upright 8-bit BGR frames, in presentation order.
//
// Rotation metadata (the display-matrix side data phones write) is applied, so frames come out upright and
// info().width/height are the upright size. A trim range limits the frames returned; frame indices count
// from the start of the file. Memory: one decoded frame plus libav's internal buffers, whatever the length.
// A file truncated mid-stream yields the frames that decode and then reports truncated() (no error).
//
// Thread safety: one thread at a time (the video pipeline's reader thread owns it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <opencv2/core/mat.hpp>

#include "facefleet/status.hpp"

struct AVFrame;  // libavutil's frame; only pointers to it appear here

namespace facefleet::media {

// A decoded frame in the decoder's own pixel format and stored orientation (no conversion), owned.
struct RawFrameDeleter {
  void operator()(AVFrame* frame) const;
};
using RawFrame = std::unique_ptr<AVFrame, RawFrameDeleter>;

struct VideoInfo {
  int width = 0;  // upright (after rotation)
  int height = 0;
  int fps_num = 25;  // average frame rate as a fraction
  int fps_den = 1;
  int time_base_num = 1;  // the video stream's time base
  int time_base_den = 25;
  std::int64_t frame_count = 0;  // frames in the file (from the container, else duration * fps); estimate
  double duration_s = 0;         // of the video stream (else the container)
  int rotation = 0;              // clockwise degrees applied to decoded frames: 0, 90, 180 or 270
  std::string codec;             // decoder name, e.g. "h264"
  bool has_audio = false;

  double fps() const { return fps_den > 0 ? static_cast<double>(fps_num) / fps_den : 0; }
};

class VideoReader {
 public:
  // Opens `path` and its first video stream's decoder. Frames [trim_start, trim_end) are returned; -1 means
  // the start / the end of the file. Errors (prefixed with the path): kInputUnreadable (cannot open, corrupt
  // container), kUnsupportedMedia (no video stream, no decoder for its codec), kUsage (trim outside the video).
  static Result<std::unique_ptr<VideoReader>> Open(const std::string& path, std::int64_t trim_start = -1,
                                                   std::int64_t trim_end = -1);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;
  // First index returned and one past the last (the latter clamped to info().frame_count).
  std::int64_t first_frame() const;
  std::int64_t end_frame() const;
  // Seconds of the first returned frame and one past the last, for trimming audio in sync.
  double start_seconds() const;
  double end_seconds() const;

  // Decodes the next frame of the range into `bgr` (a new buffer each call, so the caller may keep it) and
  // its index into `index`. Returns false at the end of the range or of the decodable data.
  Result<bool> Read(cv::Mat& bgr, std::int64_t& index);
  // Like Read, without the conversion to upright BGR: the transcode path hands these to VideoWriter::WriteRaw
  // and saves two full-frame colour conversions and a copy per frame. Rotation metadata is not applied.
  Result<bool> ReadRaw(RawFrame& frame, std::int64_t& index);

  // True once Read hit corrupt or missing data and ended early (a truncated file).
  bool truncated() const;

  struct State;  // implementation detail (video_reader.cpp)

 private:
  explicit VideoReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// True when libavformat recognises `path` as a container with at least one video stream (content sniffing,
// the extension is ignored). Images that libavformat can also read (JPEG, PNG...) are the caller's to rule
// out first.
bool LooksLikeVideo(const std::string& path);

}  // namespace facefleet::media
