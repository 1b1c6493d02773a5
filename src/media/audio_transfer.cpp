#include "media/audio_transfer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace facefleet::media {

struct AudioTransfer::State {
  std::string path;
  InputFormatPtr input;
  AVFormatContext* output = nullptr;  // not owned: the VideoWriter's muxer
  AVStream* in_stream = nullptr;
  AVStream* out_stream = nullptr;
  double start_s = 0;
  double end_s = 0;
  int volume = 100;
  bool copy = true;
  PacketPtr pending = MakePacket();  // the next source packet, not yet written (valid when has_pending)
  bool has_pending = false;
  bool source_done = false;
  // Re-encoding only:
  CodecContextPtr decoder;
  CodecContextPtr encoder;
  SwrPtr swr;
  AudioFifoPtr fifo;
  FramePtr decoded = MakeFrame();
  std::int64_t samples_out = 0;
};

namespace {

using State = AudioTransfer::State;

Status Fail(const State& s, const std::string& what, int err) {
  return {ErrorCode::kOutputFailed, s.path + ": audio: " + what + ": " + AvErrorText(err)};
}

// The container's default encoder when the source codec cannot be copied.
std::string DefaultEncoder(const AVFormatContext* output) {
  return std::string(output->oformat->name) == "webm" ? "libopus" : "aac";
}

int PickSampleRate(const AVCodec* codec, int wanted) {
  if (codec->supported_samplerates == nullptr) return wanted;
  int best = codec->supported_samplerates[0];
  for (const int* r = codec->supported_samplerates; *r != 0; ++r) {
    if (*r == wanted) return wanted;
    if (*r == 48000) best = 48000;
  }
  return best;
}

Status OpenTranscoder(State& s, const std::string& encoder_name, int quality) {
  const AVCodec* decoder = avcodec_find_decoder(s.in_stream->codecpar->codec_id);
  const AVCodec* encoder = avcodec_find_encoder_by_name(encoder_name.c_str());
  if (decoder == nullptr) return {ErrorCode::kUnsupportedMedia, s.path + ": no decoder for the audio codec"};
  if (encoder == nullptr || encoder->type != AVMEDIA_TYPE_AUDIO) {
    return {ErrorCode::kUsage, "unknown --output-audio-encoder '" + encoder_name + "'"};
  }
  if (avformat_query_codec(s.output->oformat, encoder->id, FF_COMPLIANCE_NORMAL) != 1) {
    return {ErrorCode::kUsage,
            "--output-audio-encoder " + encoder_name + " cannot be stored in " + s.output->oformat->name};
  }
  s.decoder.reset(avcodec_alloc_context3(decoder));
  s.encoder.reset(avcodec_alloc_context3(encoder));
  if (!s.decoder || !s.encoder) return {ErrorCode::kInternal, "out of memory"};
  avcodec_parameters_to_context(s.decoder.get(), s.in_stream->codecpar);
  s.decoder->pkt_timebase = s.in_stream->time_base;
  if (const int err = avcodec_open2(s.decoder.get(), decoder, nullptr); err < 0) return Fail(s, "decoder", err);
  AVCodecContext* e = s.encoder.get();
  e->sample_rate = PickSampleRate(encoder, s.decoder->sample_rate);
  e->sample_fmt = encoder->sample_fmts != nullptr ? encoder->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
  av_channel_layout_default(&e->ch_layout, std::min(s.decoder->ch_layout.nb_channels, 2));
  e->bit_rate = std::lround(64000 + quality * 1920.0);
  e->time_base = {1, e->sample_rate};
  if ((s.output->oformat->flags & AVFMT_GLOBALHEADER) != 0) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (const int err = avcodec_open2(e, encoder, nullptr); err < 0) return Fail(s, "cannot open " + encoder_name, err);
  avcodec_parameters_from_context(s.out_stream->codecpar, e);
  s.out_stream->time_base = e->time_base;
  SwrContext* swr = nullptr;
  if (const int err = swr_alloc_set_opts2(&swr, &e->ch_layout, e->sample_fmt, e->sample_rate, &s.decoder->ch_layout,
                                          s.decoder->sample_fmt, s.decoder->sample_rate, 0, nullptr);
      err < 0) {
    return Fail(s, "resampler", err);
  }
  s.swr.reset(swr);
  if (const int err = swr_init(swr); err < 0) return Fail(s, "resampler", err);
  s.fifo.reset(av_audio_fifo_alloc(e->sample_fmt, e->ch_layout.nb_channels, 4096));
  if (!s.fifo) return {ErrorCode::kInternal, "out of memory"};
  s.copy = false;
  return Status::Ok();
}

// Scales samples in place by volume/100 (float and 16/32-bit integer formats; others are left unchanged).
void ApplyVolume(AVFrame* frame, int volume) {
  if (volume == 100) return;
  const double gain = volume / 100.0;
  const auto fmt = static_cast<AVSampleFormat>(frame->format);
  const bool planar = av_sample_fmt_is_planar(fmt) != 0;
  const int planes = planar ? frame->ch_layout.nb_channels : 1;
  const int count = frame->nb_samples * (planar ? 1 : frame->ch_layout.nb_channels);
  const AVSampleFormat packed = av_get_packed_sample_fmt(fmt);
  for (int p = 0; p < planes; ++p) {
    for (int i = 0; i < count; ++i) {
      if (packed == AV_SAMPLE_FMT_FLT) {
        reinterpret_cast<float*>(frame->data[p])[i] *= static_cast<float>(gain);
      } else if (packed == AV_SAMPLE_FMT_S16) {
        auto& v = reinterpret_cast<std::int16_t*>(frame->data[p])[i];
        v = static_cast<std::int16_t>(std::clamp(std::lround(v * gain), -32768L, 32767L));
      } else if (packed == AV_SAMPLE_FMT_S32) {
        auto& v = reinterpret_cast<std::int32_t*>(frame->data[p])[i];
        v = static_cast<std::int32_t>(std::clamp<double>(std::round(v * gain), INT32_MIN, INT32_MAX));
      }
    }
  }
}

// Sends `frame` (null = flush) to the encoder and writes every packet it returns.
Status Encode(State& s, AVFrame* frame) {
  if (const int err = avcodec_send_frame(s.encoder.get(), frame); err < 0) return Fail(s, "encode", err);
  PacketPtr packet = MakePacket();
  while (true) {
    const int err = avcodec_receive_packet(s.encoder.get(), packet.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
    if (err < 0) return Fail(s, "encode", err);
    packet->stream_index = s.out_stream->index;
    av_packet_rescale_ts(packet.get(), s.encoder->time_base, s.out_stream->time_base);
    if (const int w = av_interleaved_write_frame(s.output, packet.get()); w < 0) return Fail(s, "write", w);
  }
}

// Encodes whole encoder frames from the FIFO (and the short remainder when `flush`).
Status DrainFifo(State& s, bool flush) {
  const int frame_size = s.encoder->frame_size > 0 ? s.encoder->frame_size : 1024;
  while (av_audio_fifo_size(s.fifo.get()) >= frame_size || (flush && av_audio_fifo_size(s.fifo.get()) > 0)) {
    FramePtr frame = MakeFrame();
    frame->nb_samples = std::min(frame_size, av_audio_fifo_size(s.fifo.get()));
    frame->format = s.encoder->sample_fmt;
    frame->sample_rate = s.encoder->sample_rate;
    av_channel_layout_copy(&frame->ch_layout, &s.encoder->ch_layout);
    if (const int err = av_frame_get_buffer(frame.get(), 0); err < 0) return Fail(s, "buffer", err);
    av_audio_fifo_read(s.fifo.get(), reinterpret_cast<void**>(frame->data), frame->nb_samples);
    frame->pts = s.samples_out;
    s.samples_out += frame->nb_samples;
    if (Status st = Encode(s, frame.get()); !st.ok()) return st;
  }
  return Status::Ok();
}

// Resamples `in` (null = flush the resampler) into the FIFO, applying the volume.
Status Resample(State& s, const AVFrame* in) {
  const int max_out = swr_get_out_samples(s.swr.get(), in != nullptr ? in->nb_samples : 0);
  if (max_out <= 0) return Status::Ok();
  FramePtr out = MakeFrame();
  out->nb_samples = max_out;
  out->format = s.encoder->sample_fmt;
  av_channel_layout_copy(&out->ch_layout, &s.encoder->ch_layout);
  if (const int err = av_frame_get_buffer(out.get(), 0); err < 0) return Fail(s, "buffer", err);
  const int n = swr_convert(s.swr.get(), out->data, max_out,
                            in != nullptr ? const_cast<const std::uint8_t**>(in->extended_data) : nullptr,
                            in != nullptr ? in->nb_samples : 0);
  if (n < 0) return Fail(s, "resample", n);
  out->nb_samples = n;
  ApplyVolume(out.get(), s.volume);
  if (av_audio_fifo_write(s.fifo.get(), reinterpret_cast<void**>(out->data), n) < n) {
    return {ErrorCode::kInternal, "out of memory"};
  }
  return DrainFifo(s, false);
}

double Seconds(const AVStream* stream, std::int64_t ts) { return static_cast<double>(ts) * av_q2d(stream->time_base); }

// Decodes one source packet; frames inside [start_s, end_s) go to the resampler.
Status Transcode(State& s, AVPacket* packet) {
  if (avcodec_send_packet(s.decoder.get(), packet) < 0) return Status::Ok();  // a corrupt packet: skip it
  while (avcodec_receive_frame(s.decoder.get(), s.decoded.get()) >= 0) {
    const std::int64_t ts = s.decoded->best_effort_timestamp;
    const double t = ts == AV_NOPTS_VALUE ? s.start_s : Seconds(s.in_stream, ts);
    Status st = Status::Ok();
    if (t >= s.start_s - 1e-6 && t < s.end_s) st = Resample(s, s.decoded.get());
    av_frame_unref(s.decoded.get());
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status CopyPacket(State& s, AVPacket* packet) {
  const std::int64_t offset =
      av_rescale_q(std::llround(s.start_s * AV_TIME_BASE), AVRational{1, AV_TIME_BASE}, s.in_stream->time_base);
  if (packet->pts != AV_NOPTS_VALUE) packet->pts -= offset;
  if (packet->dts != AV_NOPTS_VALUE) packet->dts -= offset;
  packet->stream_index = s.out_stream->index;
  packet->pos = -1;
  av_packet_rescale_ts(packet, s.in_stream->time_base, s.out_stream->time_base);
  if (const int err = av_interleaved_write_frame(s.output, packet); err < 0) return Fail(s, "write", err);
  return Status::Ok();
}

// Reads the next packet of the source's audio stream into s.pending; false at the end of the source.
bool NextPacket(State& s) {
  while (!s.source_done) {
    if (av_read_frame(s.input.get(), s.pending.get()) < 0) {
      s.source_done = true;  // end of file, or a truncated file: keep what was read
      return false;
    }
    if (s.pending->stream_index == s.in_stream->index) return true;
    av_packet_unref(s.pending.get());
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<AudioTransfer>> AudioTransfer::Create(const std::string& source_path, AVFormatContext* output,
                                                             double start_s, double end_s,
                                                             const AudioOptions& options) {
  auto input = OpenInput(source_path);
  if (!input.ok()) return input.status();
  const int index = av_find_best_stream(input->get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (index < 0) return std::unique_ptr<AudioTransfer>();
  auto s = std::make_unique<State>();
  s->path = source_path;
  s->input = std::move(*input);
  s->output = output;
  s->in_stream = s->input->streams[index];
  s->start_s = start_s;
  s->end_s = end_s;
  s->volume = options.volume;
  s->out_stream = avformat_new_stream(output, nullptr);
  if (s->out_stream == nullptr || !s->pending || !s->decoded) return Status(ErrorCode::kInternal, "out of memory");
  const AVCodecID codec = s->in_stream->codecpar->codec_id;
  const bool can_copy = options.encoder.empty() && options.volume == 100 &&
                        avformat_query_codec(output->oformat, codec, FF_COMPLIANCE_NORMAL) == 1;
  if (can_copy) {
    avcodec_parameters_copy(s->out_stream->codecpar, s->in_stream->codecpar);
    s->out_stream->codecpar->codec_tag = 0;
    s->out_stream->time_base = s->in_stream->time_base;
  } else {
    const std::string name = options.encoder.empty() ? DefaultEncoder(output) : options.encoder;
    if (Status opened = OpenTranscoder(*s, name, options.quality); !opened.ok()) return opened;
  }
  return std::unique_ptr<AudioTransfer>(new AudioTransfer(std::move(s)));
}

AudioTransfer::AudioTransfer(std::unique_ptr<State> state) : state_(std::move(state)) {}
AudioTransfer::~AudioTransfer() = default;
bool AudioTransfer::copying() const { return state_->copy; }

Status AudioTransfer::WriteUntil(double until_s) {
  State& s = *state_;
  while (s.has_pending || NextPacket(s)) {
    s.has_pending = true;
    AVPacket* p = s.pending.get();
    const std::int64_t ts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
    const double t = ts == AV_NOPTS_VALUE ? s.start_s : Seconds(s.in_stream, ts);
    if (t - s.start_s >= until_s) return Status::Ok();  // keep it for a later call
    s.has_pending = false;
    Status st = Status::Ok();
    if (!s.copy) {
      st = Transcode(s, p);
    } else if ((s.start_s <= 0 || t >= s.start_s - 1e-6) && t < s.end_s) {
      st = CopyPacket(s, p);
    }
    av_packet_unref(p);
    if (!st.ok()) return st;
    if (t >= s.end_s) s.source_done = true;  // past the range: nothing more to read
  }
  return Status::Ok();
}

Status AudioTransfer::Finish() {
  if (Status st = WriteUntil(std::numeric_limits<double>::infinity()); !st.ok()) return st;
  State& s = *state_;
  if (s.copy) return Status::Ok();
  if (Status st = Transcode(s, nullptr); !st.ok()) return st;  // drains the decoder
  if (Status st = Resample(s, nullptr); !st.ok()) return st;
  if (Status st = DrainFifo(s, true); !st.ok()) return st;
  return Encode(s, nullptr);
}

}  // namespace facefleet::media
