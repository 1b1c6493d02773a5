// VideoWriter: encodes BGR frames into a video file (mp4, mov, mkv, webm by the output extension), carrying
// the source's audio along (see AudioTransfer), written atomically: everything goes to a temporary file beside
// the output, renamed over it by Finish(). A writer destroyed without a successful Finish() removes the
// temporary, so a failed or canceled run leaves nothing behind (and any previous output untouched).
//
// Memory: the encoder's lookahead plus one converted frame, independent of the video's length.
// Thread safety: one thread at a time (the video pipeline's writer thread).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <opencv2/core/mat.hpp>

#include "facefleet/status.hpp"
#include "media/audio_transfer.hpp"

struct AVFrame;  // libavutil's frame

namespace facefleet::media {

struct VideoWriteOptions {
  int width = 0;  // of the frames passed to Write; odd sizes are padded to even (last row/column repeated)
  int height = 0;
  int fps_num = 25;  // source frame rate (frames passed to Write are at this rate)
  int fps_den = 1;
  double output_fps = 0;            // 0 = the source rate; otherwise frames are dropped/repeated to this rate
  std::string encoder;              // "" = the container's default: libx264 (libvpx-vp9 for webm); libx265; libvpx-vp9
  int quality = 80;                 // 0-100 -> CRF (FaceFusion's mapping)
  std::string preset = "veryfast";  // x264/x265 preset names; mapped to speed settings for vp9
  // Audio: taken from `audio_source` (usually the video being swapped) between these source seconds.
  std::string audio_source;  // "" = no audio
  double audio_start_s = 0;
  double audio_end_s = 0;
  AudioOptions audio;
};

// The video encoders facefleet knows, and the output extensions (".mp4" ".mov" ".mkv" ".webm").
std::span<const std::string_view> VideoEncoderNames();
bool IsVideoExtension(std::string_view path);
// FaceFusion's quality -> CRF mapping: x264/x265 round(51 - q * 0.51), vp9 round(63 - q * 0.63).
int CrfForQuality(std::string_view encoder, int quality);

class VideoWriter {
 public:
  // Creates the temporary file and the encoders. kUsage for an unsupported extension, unknown encoder or one
  // the container cannot hold; kOutputFailed when the file cannot be created.
  static Result<std::unique_ptr<VideoWriter>> Open(const std::string& path, const VideoWriteOptions& options);
  ~VideoWriter();  // removes the temporary file unless Finish() succeeded
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Encodes the next source frame (8-bit BGR, options' size).
  Status Write(const cv::Mat& bgr);
  // Encodes the next source frame as decoded (VideoReader::ReadRaw): any pixel format sws_scale reads, already
  // at the encoder's size (even width and height equal to the options'); a yuv420p frame goes to the encoder
  // without a copy. The writer may change the frame's pts and picture type.
  Status WriteRaw(AVFrame* frame);
  // Flushes the encoders, writes the rest of the audio and the trailer, then renames the temporary file over
  // the output path.
  Status Finish();

  std::int64_t frames_written() const;  // output frames (after any frame-rate change)

  struct State;  // implementation detail (video_writer.cpp)

 private:
  explicit VideoWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace facefleet::media
