// AudioTransfer: carries the audio of a video's source file into the output being written, trimmed to the
// same time range as the video. Packets are stream-copied when the output container accepts the codec and no
// change is asked for; otherwise they are decoded, resampled and re-encoded (aac for mp4/mov/mkv, opus for
// webm, or the encoder asked for). Trimming is exact to one audio packet/frame (about 20 ms).
//
// Memory: at most one demuxed packet and one encoder frame of samples are held. The transfer reads its own
// demuxer over the source file, so the video reader and the audio never share libav state.
// Thread safety: one thread at a time (the writer thread).
#pragma once

#include <memory>
#include <string>

#include "facefleet/status.hpp"
#include "media/av_util.hpp"

namespace facefleet::media {

struct AudioOptions {
  std::string encoder;  // "" = copy when possible, else the container's default encoder
  int quality = 80;     // 0-100 -> bit rate 64-256 kbit/s (re-encoding only)
  int volume = 100;     // percent; anything but 100 forces re-encoding
};

class AudioTransfer {
 public:
  // Adds an audio stream to `output` (before its header is written) for the first audio stream of
  // `source_path`, covering [start_s, end_s) of the source. Returns null when the source has no audio.
  // kUsage when the asked-for encoder is unknown or the container cannot hold it.
  static Result<std::unique_ptr<AudioTransfer>> Create(const std::string& source_path, AVFormatContext* output,
                                                       double start_s, double end_s, const AudioOptions& options);
  ~AudioTransfer();
  AudioTransfer(const AudioTransfer&) = delete;
  AudioTransfer& operator=(const AudioTransfer&) = delete;

  // Writes the audio up to `until_s` seconds of the output timeline (interleaved writes).
  Status WriteUntil(double until_s);
  // Writes the rest of the range and flushes the encoder.
  Status Finish();

  bool copying() const;

  struct State;  // implementation detail (audio_transfer.cpp)

 private:
  explicit AudioTransfer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace facefleet::media
