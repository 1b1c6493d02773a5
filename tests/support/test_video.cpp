#include "support/test_video.hpp"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/opt.h>
}

#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "media/av_util.hpp"

namespace facefleet::testing {
namespace {

using namespace facefleet::media;  // NOLINT(google-build-using-namespace): test helpers only

void Check(int err, const std::string& what) {
  if (err < 0) throw std::runtime_error("test video: " + what + ": " + AvErrorText(err));
}

constexpr int kStampBits = 8;
constexpr int kBlock = 8;

void Stamp(cv::Mat& frame, int index) {
  for (int bit = 0; bit < kStampBits; ++bit) {
    const bool on = ((index >> bit) & 1) != 0;
    frame(cv::Rect(bit * kBlock, 0, kBlock, kBlock)).setTo(cv::Scalar::all(on ? 255 : 0));
  }
}

struct Encoder {
  CodecContextPtr ctx;
  AVStream* stream = nullptr;
};

Encoder AddEncoder(AVFormatContext* out, const char* name, const std::function<void(AVCodecContext*)>& setup) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name);
  if (codec == nullptr) throw std::runtime_error(std::string("test video: no encoder ") + name);
  Encoder e{CodecContextPtr(avcodec_alloc_context3(codec)), avformat_new_stream(out, nullptr)};
  setup(e.ctx.get());
  if ((out->oformat->flags & AVFMT_GLOBALHEADER) != 0) e.ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  Check(avcodec_open2(e.ctx.get(), codec, nullptr), name);
  Check(avcodec_parameters_from_context(e.stream->codecpar, e.ctx.get()), "parameters");
  e.stream->time_base = e.ctx->time_base;
  return e;
}

void Send(AVFormatContext* out, Encoder& e, AVFrame* frame) {
  Check(avcodec_send_frame(e.ctx.get(), frame), "send frame");
  PacketPtr packet = MakePacket();
  while (avcodec_receive_packet(e.ctx.get(), packet.get()) >= 0) {
    packet->stream_index = e.stream->index;
    av_packet_rescale_ts(packet.get(), e.ctx->time_base, e.stream->time_base);
    Check(av_interleaved_write_frame(out, packet.get()), "write");
  }
}

void AddRotation(AVStream* stream, int rotation) {
  auto* matrix = reinterpret_cast<std::int32_t*>(av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4));
  av_display_rotation_set(matrix, rotation);
}

void WriteVideoFrame(AVFormatContext* out, Encoder& v, const cv::Mat& bgr, int index) {
  FramePtr frame = MakeFrame();
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = bgr.cols;
  frame->height = bgr.rows;
  Check(av_frame_get_buffer(frame.get(), 0), "frame buffer");
  SwsPtr sws(sws_getContext(bgr.cols, bgr.rows, AV_PIX_FMT_BGR24, bgr.cols, bgr.rows, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                            nullptr, nullptr, nullptr));
  const std::uint8_t* planes[1] = {bgr.data};
  const int strides[1] = {static_cast<int>(bgr.step)};
  sws_scale(sws.get(), planes, strides, 0, bgr.rows, frame->data, frame->linesize);
  frame->pts = index;
  Send(out, v, frame.get());
}

void WriteAudioFrame(AVFormatContext* out, Encoder& a, std::int64_t first_sample, int samples) {
  FramePtr frame = MakeFrame();
  frame->format = a.ctx->sample_fmt;
  frame->nb_samples = samples;
  frame->sample_rate = a.ctx->sample_rate;
  av_channel_layout_copy(&frame->ch_layout, &a.ctx->ch_layout);
  Check(av_frame_get_buffer(frame.get(), 0), "audio buffer");
  auto* data = reinterpret_cast<float*>(frame->data[0]);
  for (int i = 0; i < samples; ++i) {
    data[i] = 0.5F * static_cast<float>(
                         std::sin(2 * M_PI * 440.0 * static_cast<double>(first_sample + i) / a.ctx->sample_rate));
  }
  frame->pts = first_sample;
  Send(out, a, frame.get());
}

}  // namespace

cv::Mat PanZoomFrame(const cv::Mat& photo, int index, const TestVideoSpec& spec) {
  // A window of the photo's aspect that shrinks 15% over the clip while drifting right: a slow zoom and pan.
  const double t = spec.frames > 1 ? static_cast<double>(index) / (spec.frames - 1) : 0;
  const double scale = 1.0 - 0.15 * t;
  const double aspect = static_cast<double>(spec.width) / spec.height;
  double h = photo.rows * scale;
  double w = h * aspect;
  if (w > photo.cols) {
    w = photo.cols * scale;
    h = w / aspect;
  }
  const double x = (photo.cols - w) * (0.3 + 0.4 * t);
  const double y = (photo.rows - h) * 0.5;
  cv::Mat frame;
  cv::resize(photo(cv::Rect(static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h))), frame,
             cv::Size(spec.width, spec.height), 0, 0, cv::INTER_AREA);
  Stamp(frame, index);
  return frame;
}

void WriteTestVideo(const std::string& path, const cv::Mat& photo, const TestVideoSpec& spec) {
  InitAvLogging();
  AVFormatContext* raw = nullptr;
  Check(avformat_alloc_output_context2(&raw, nullptr, nullptr, path.c_str()), "muxer for " + path);
  OutputFormatPtr out(raw);
  Encoder video;
  Encoder audio;
  if (spec.video) {
    video = AddEncoder(raw, "libx264", [&](AVCodecContext* c) {
      c->width = spec.width;
      c->height = spec.height;
      c->pix_fmt = AV_PIX_FMT_YUV420P;
      c->time_base = {1, spec.fps};
      c->framerate = {spec.fps, 1};
      av_opt_set(c->priv_data, "preset", "ultrafast", 0);
      av_opt_set_int(c->priv_data, "crf", 12, 0);
    });
    video.stream->avg_frame_rate = {spec.fps, 1};
    if (spec.rotation != 0) AddRotation(video.stream, spec.rotation);
  }
  if (spec.audio) {
    audio = AddEncoder(raw, "aac", [](AVCodecContext* c) {
      c->sample_rate = 44100;
      c->sample_fmt = AV_SAMPLE_FMT_FLTP;
      av_channel_layout_default(&c->ch_layout, 1);
      c->bit_rate = 96000;
      c->time_base = {1, 44100};
    });
  }
  Check(avio_open(&raw->pb, path.c_str(), AVIO_FLAG_WRITE), "open " + path);
  AVDictionary* options = nullptr;
  if (spec.faststart) av_dict_set(&options, "movflags", "+faststart", 0);
  Check(avformat_write_header(raw, &options), "header");
  av_dict_free(&options);
  const std::int64_t total_samples = std::int64_t{44100} * spec.frames / spec.fps;
  std::int64_t samples = 0;
  for (int i = 0; i < spec.frames || (spec.audio && samples < total_samples); ++i) {
    if (spec.video && i < spec.frames) WriteVideoFrame(raw, video, PanZoomFrame(photo, i, spec), i);
    const std::int64_t due = std::min(total_samples, std::int64_t{44100} * (i + 1) / spec.fps);
    while (spec.audio && samples < due) {
      const int n = static_cast<int>(std::min<std::int64_t>(audio.ctx->frame_size, total_samples - samples));
      WriteAudioFrame(raw, audio, samples, n);
      samples += n;
    }
  }
  if (spec.video) Send(raw, video, nullptr);
  if (spec.audio) Send(raw, audio, nullptr);
  Check(av_write_trailer(raw), "trailer");
}

void WriteUndecodableVideo(const std::string& path, int frames) {
  InitAvLogging();
  AVFormatContext* raw = nullptr;
  Check(avformat_alloc_output_context2(&raw, nullptr, "avi", path.c_str()), "avi muxer for " + path);
  OutputFormatPtr out(raw);
  AVStream* stream = avformat_new_stream(raw, nullptr);
  if (stream == nullptr) throw std::runtime_error("test video: no stream");
  // A FourCC no codec table knows: the demuxer reads it back as codec id "none", which no build can decode.
  stream->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
  stream->codecpar->codec_id = AV_CODEC_ID_NONE;
  stream->codecpar->codec_tag = MKTAG('Z', 'Z', 'F', 'F');
  stream->codecpar->width = 64;
  stream->codecpar->height = 48;
  stream->time_base = {1, 25};
  stream->avg_frame_rate = {25, 1};
  Check(avio_open(&raw->pb, path.c_str(), AVIO_FLAG_WRITE), "open " + path);
  Check(avformat_write_header(raw, nullptr), "header");
  PacketPtr packet = MakePacket();
  for (int i = 0; i < frames; ++i) {
    Check(av_new_packet(packet.get(), 256), "packet");
    for (int b = 0; b < packet->size; ++b) packet->data[b] = static_cast<std::uint8_t>((b * 31 + i) % 251);
    packet->stream_index = stream->index;
    packet->pts = packet->dts = i;
    packet->flags = AV_PKT_FLAG_KEY;
    av_packet_rescale_ts(packet.get(), {1, 25}, stream->time_base);
    Check(av_interleaved_write_frame(raw, packet.get()), "packet");
  }
  Check(av_write_trailer(raw), "trailer");
}

int ReadStamp(const cv::Mat& frame) {
  int index = 0;
  for (int bit = 0; bit < kStampBits; ++bit) {
    const cv::Scalar mean = cv::mean(frame(cv::Rect(bit * kBlock + 2, 2, kBlock - 4, kBlock - 4)));
    const double grey = (mean[0] + mean[1] + mean[2]) / 3;
    if (grey > 96 && grey < 160) return -1;
    if (grey >= 160) index |= 1 << bit;
  }
  return index;
}

StreamFacts ProbeStreams(const std::string& path) {
  StreamFacts facts;
  auto input = OpenInput(path);
  if (!input.ok()) throw std::runtime_error(input.status().ToString());
  AVFormatContext* in = input->get();
  int audio = -1;
  for (unsigned i = 0; i < in->nb_streams; ++i) {
    const AVCodecParameters* p = in->streams[i]->codecpar;
    if (p->codec_type == AVMEDIA_TYPE_VIDEO && facts.video_codec.empty()) {
      facts.video_codec = avcodec_get_name(p->codec_id);
      facts.video_tag = p->codec_tag;
    } else if (p->codec_type == AVMEDIA_TYPE_AUDIO && audio < 0) {
      facts.audio_codec = avcodec_get_name(p->codec_id);
      audio = static_cast<int>(i);
    }
  }
  if (audio < 0) return facts;
  PacketPtr packet = MakePacket();
  std::int64_t first = AV_NOPTS_VALUE;
  std::int64_t end = 0;
  while (av_read_frame(in, packet.get()) >= 0) {
    if (packet->stream_index == audio && packet->pts != AV_NOPTS_VALUE) {
      if (first == AV_NOPTS_VALUE) first = packet->pts;
      end = std::max(end, packet->pts + packet->duration);
    }
    av_packet_unref(packet.get());
  }
  if (first != AV_NOPTS_VALUE)
    facts.audio_seconds = static_cast<double>(end - first) * av_q2d(in->streams[audio]->time_base);
  return facts;
}

}  // namespace facefleet::testing
