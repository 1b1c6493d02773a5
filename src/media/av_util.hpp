// RAII ownership for FFmpeg (libav*) objects and small helpers shared by the video reader and writer.
//
// Every libav object facefleet allocates is held by one of these unique_ptr aliases, so an early return on an
// error path never leaks. Thread safety: the objects are not shared between threads; each reader/writer owns
// its own. InitAvLogging() is safe to call from any thread any number of times.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

#include "facefleet/status.hpp"

namespace facefleet::media {

struct InputFormatDeleter {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
// An output context also owns its AVIOContext (closed here when the muxer opened a file).
struct OutputFormatDeleter {
  void operator()(AVFormatContext* c) const {
    if (c->pb != nullptr && (c->oformat->flags & AVFMT_NOFILE) == 0) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct SwrDeleter {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
struct AudioFifoDeleter {
  void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};

using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoDeleter>;

// Allocating constructors; they return null only when memory is exhausted (callers turn that into kInternal).
inline FramePtr MakeFrame() { return FramePtr(av_frame_alloc()); }
inline PacketPtr MakePacket() { return PacketPtr(av_packet_alloc()); }

// av_strerror text for a negative libav return value ("Invalid data found when processing input").
std::string AvErrorText(int err);

// Silences libav's own stderr chatter below errors (x264's banner, demuxer notices), once per process. Our
// errors reach the user as one Status line instead.
void InitAvLogging();

// Opens `path` with libavformat and reads stream info. kInputUnreadable (file cannot be opened or parsed)
// or kUnsupportedMedia (parsed, but not a container libavformat knows); messages are prefixed with `path`.
Result<InputFormatPtr> OpenInput(const std::string& path);

}  // namespace facefleet::media
