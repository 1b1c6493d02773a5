#include "media/video_reader.hpp"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
}

#include <cmath>
#include <cstdio>
#include <vector>

#include <opencv2/core.hpp>

#include "media/av_util.hpp"

namespace facefleet::media {

struct VideoReader::State {
  std::string path;
  InputFormatPtr input;
  CodecContextPtr decoder;
  SwsPtr sws;
  PacketPtr packet = MakePacket();
  FramePtr frame = MakeFrame();
  int stream_index = -1;
  bool exact_count = false;  // info.frame_count came from the container's index
  VideoInfo info;
  std::int64_t first = 0;
  std::int64_t end = 0;
  std::int64_t next_index = 0;  // index of the next decoded frame
  bool demux_done = false;
  bool packet_held = false;  // `packet` is a video packet the decoder refused for now (EAGAIN)
  bool decoder_done = false;
  bool truncated = false;
};

namespace {

// Clockwise degrees (0/90/180/270) that make the stored frames upright, from the display matrix.
int RotationOf(const AVStream* stream) {
  const std::uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (matrix == nullptr) return 0;
  // av_display_rotation_get is counter-clockwise; players rotate by its negation.
  const double ccw = av_display_rotation_get(reinterpret_cast<const std::int32_t*>(matrix));
  if (std::isnan(ccw)) return 0;
  int clockwise = static_cast<int>(std::lround(-ccw)) % 360;
  if (clockwise < 0) clockwise += 360;
  return (clockwise + 45) / 90 % 4 * 90;
}

void FillInfo(const AVFormatContext* input, const AVStream* stream, const AVCodecContext* decoder,
              VideoReader::State& s) {
  VideoInfo& info = s.info;
  // The average rate is frames / duration, which misses the last frame's duration in some muxers (40 frames at
  // 25 fps read as 25.64); the base rate is exact for constant-rate files, so it wins when the two agree.
  AVRational rate = stream->avg_frame_rate;
  const AVRational base = stream->r_frame_rate;
  if (rate.num <= 0 || rate.den <= 0 ||
      (base.num > 0 && base.den > 0 && std::abs(av_q2d(rate) / av_q2d(base) - 1.0) < 0.1)) {
    rate = base;
  }
  if (rate.num <= 0 || rate.den <= 0) rate = {25, 1};
  info.fps_num = rate.num;
  info.fps_den = rate.den;
  info.time_base_num = stream->time_base.num;
  info.time_base_den = stream->time_base.den;
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    info.duration_s = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  } else if (input->duration > 0) {
    info.duration_s = static_cast<double>(input->duration) / AV_TIME_BASE;
  }
  s.exact_count = stream->nb_frames > 0;
  info.frame_count = s.exact_count ? stream->nb_frames : std::llround(info.duration_s * av_q2d(rate));
  info.rotation = RotationOf(stream);
  const bool sideways = info.rotation == 90 || info.rotation == 270;
  info.width = sideways ? decoder->height : decoder->width;
  info.height = sideways ? decoder->width : decoder->height;
  info.codec = decoder->codec->name;
  info.has_audio =
      av_find_best_stream(const_cast<AVFormatContext*>(input), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0) >= 0;
}

// "'h264'", or the FourCC for a codec libavcodec does not know ("'none' (FourCC XVVC)").
std::string CodecName(const AVCodecParameters& par) {
  std::string name = std::string("'") + avcodec_get_name(par.codec_id) + "'";
  if (par.codec_id == AV_CODEC_ID_NONE && par.codec_tag != 0) {
    char fourcc[AV_FOURCC_MAX_STRING_SIZE] = {};
    name += std::string(" (FourCC ") + av_fourcc_make_string(fourcc, par.codec_tag) + ")";
  }
  return name;
}

Status CheckTrim(const std::string& path, std::int64_t start, std::int64_t end, std::int64_t count) {
  const std::string range = "trim range " + std::to_string(start) + "-" + (end < 0 ? "end" : std::to_string(end));
  if (start >= count) {
    return {ErrorCode::kUsage,
            path + ": " + range + " starts after the last frame (the video has " + std::to_string(count) + " frames)"};
  }
  if (end >= 0 && (end <= start || end > count)) {
    return {ErrorCode::kUsage,
            path + ": " + range + " is empty or outside the video (" + std::to_string(count) + " frames)"};
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<VideoReader>> VideoReader::Open(const std::string& path, std::int64_t trim_start,
                                                       std::int64_t trim_end) {
  auto input = OpenInput(path);
  if (!input.ok()) return input.status();
  auto state = std::make_unique<State>();
  state->path = path;
  state->input = std::move(*input);
  const AVCodec* codec = nullptr;
  state->stream_index = av_find_best_stream(state->input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (state->stream_index < 0 || codec == nullptr) {
    // AVERROR_DECODER_NOT_FOUND: there is a video stream, but this FFmpeg build has no decoder for it.
    const AVStream* video = nullptr;
    for (unsigned i = 0; i < state->input->nb_streams && video == nullptr; ++i) {
      if (state->input->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) video = state->input->streams[i];
    }
    if (video == nullptr) return Status(ErrorCode::kUnsupportedMedia, path + ": no video stream");
    if (state->stream_index == AVERROR_STREAM_NOT_FOUND) {
      return Status(ErrorCode::kInputUnreadable, path + ": video has no frames");
    }
    return Status(ErrorCode::kUnsupportedMedia, path + ": unsupported video codec " + CodecName(*video->codecpar) +
                                                    " (this build has no decoder for it)");
  }
  AVStream* stream = state->input->streams[state->stream_index];
  state->decoder.reset(avcodec_alloc_context3(codec));
  if (!state->decoder || !state->packet || !state->frame) return Status(ErrorCode::kInternal, "out of memory");
  avcodec_parameters_to_context(state->decoder.get(), stream->codecpar);
  state->decoder->pkt_timebase = stream->time_base;
  state->decoder->thread_count = 0;  // libavcodec picks (frame threads), bounded by the core count
  if (const int err = avcodec_open2(state->decoder.get(), codec, nullptr); err < 0) {
    return Status(ErrorCode::kUnsupportedMedia,
                  path + ": cannot open " + codec->name + " decoder: " + AvErrorText(err));
  }
  if (state->decoder->width <= 0 || state->decoder->height <= 0) {
    return Status(ErrorCode::kInputUnreadable, path + ": video stream has no frame size");
  }
  FillInfo(state->input.get(), stream, state->decoder.get(), *state);
  if (state->info.frame_count <= 0) return Status(ErrorCode::kInputUnreadable, path + ": video has no frames");
  state->first = std::max<std::int64_t>(trim_start, 0);
  state->end = trim_end < 0 ? state->info.frame_count : trim_end;
  if (Status trim = CheckTrim(path, state->first, trim_end, state->info.frame_count); !trim.ok()) return trim;
  return std::unique_ptr<VideoReader>(new VideoReader(std::move(state)));
}

VideoReader::VideoReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
VideoReader::~VideoReader() = default;

const VideoInfo& VideoReader::info() const { return state_->info; }
std::int64_t VideoReader::first_frame() const { return state_->first; }
std::int64_t VideoReader::end_frame() const { return state_->end; }
double VideoReader::start_seconds() const { return static_cast<double>(state_->first) / state_->info.fps(); }
double VideoReader::end_seconds() const {
  if (state_->end >= state_->info.frame_count)
    return std::max(state_->info.duration_s, state_->end / state_->info.fps());
  return static_cast<double>(state_->end) / state_->info.fps();
}
bool VideoReader::truncated() const { return state_->truncated; }

namespace {

// Feeds the decoder the next video packet (or the end-of-stream flush). Corrupt data ends demuxing and marks
// the file truncated; the decoder is still drained so every complete frame comes out.
void FeedDecoder(VideoReader::State& s) {
  while (!s.demux_done) {
    if (!s.packet_held) {
      const int err = av_read_frame(s.input.get(), s.packet.get());
      if (err < 0) {
        if (err != AVERROR_EOF) s.truncated = true;
        s.demux_done = true;
        avcodec_send_packet(s.decoder.get(), nullptr);
        return;
      }
      if (s.packet->stream_index != s.stream_index) {
        av_packet_unref(s.packet.get());
        continue;
      }
    }
    // EAGAIN: the decoder's queue is full (frame threads); keep the packet and send it after the next frame.
    const int sent = avcodec_send_packet(s.decoder.get(), s.packet.get());
    s.packet_held = sent == AVERROR(EAGAIN);
    if (s.packet_held) return;
    av_packet_unref(s.packet.get());
    if (sent < 0) s.truncated = true;  // a corrupt packet: skip it
    return;
  }
}

// The decoded frame as an upright BGR Mat (a fresh buffer).
Result<cv::Mat> Convert(VideoReader::State& s) {
  const AVFrame* f = s.frame.get();
  s.sws.reset(sws_getCachedContext(s.sws.release(), f->width, f->height, static_cast<AVPixelFormat>(f->format),
                                   f->width, f->height, AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!s.sws) return Status(ErrorCode::kUnsupportedMedia, s.path + ": unsupported pixel format");
  cv::Mat bgr(f->height, f->width, CV_8UC3);
  std::uint8_t* planes[4] = {bgr.data, nullptr, nullptr, nullptr};
  const int strides[4] = {static_cast<int>(bgr.step), 0, 0, 0};
  sws_scale(s.sws.get(), f->data, f->linesize, 0, f->height, planes, strides);
  const int r = s.info.rotation;
  if (r == 0) return bgr;
  cv::Mat upright;
  cv::rotate(bgr, upright,
             r == 90    ? cv::ROTATE_90_CLOCKWISE
             : r == 180 ? cv::ROTATE_180
                        : cv::ROTATE_90_COUNTERCLOCKWISE);
  return upright;
}

}  // namespace

void RawFrameDeleter::operator()(AVFrame* frame) const { av_frame_free(&frame); }

namespace {

// Decodes up to the next frame of the range into s.frame and returns true, or false at the end of the range
// or of the decodable data.
bool DecodeNext(VideoReader::State& s, std::int64_t& index) {
  while (!s.decoder_done && s.next_index < s.end) {
    const int err = avcodec_receive_frame(s.decoder.get(), s.frame.get());
    if (err == AVERROR(EAGAIN)) {
      FeedDecoder(s);
      continue;
    }
    if (err < 0) {  // AVERROR_EOF after the flush, or a decoder failure on corrupt data
      if (err != AVERROR_EOF) s.truncated = true;
      s.decoder_done = true;
      break;
    }
    const std::int64_t frame_index = s.next_index++;
    if (frame_index < s.first) {
      av_frame_unref(s.frame.get());
      continue;
    }
    index = frame_index;
    return true;
  }
  // Fewer frames than the container's index promised: the file was cut short.
  if (s.exact_count && s.next_index < s.end) s.truncated = true;
  return false;
}

}  // namespace

Result<bool> VideoReader::Read(cv::Mat& bgr, std::int64_t& index) {
  State& s = *state_;
  if (!DecodeNext(s, index)) return false;
  auto converted = Convert(s);
  av_frame_unref(s.frame.get());
  if (!converted.ok()) return converted.status();
  bgr = std::move(*converted);
  return true;
}

Result<bool> VideoReader::ReadRaw(RawFrame& frame, std::int64_t& index) {
  State& s = *state_;
  if (!DecodeNext(s, index)) return false;
  frame.reset(av_frame_alloc());
  if (!frame) return Status(ErrorCode::kInternal, "out of memory");
  av_frame_move_ref(frame.get(), s.frame.get());  // takes the decoder's buffer reference: no pixel copy
  return true;
}

bool LooksLikeVideo(const std::string& path) {
  // libavformat's own detection also trusts the file name (notes.jpg -> the image2 demuxer), so the format is
  // probed from the first bytes alone, and still-image demuxers do not count.
  std::vector<std::uint8_t> head(64 * 1024 + AV_INPUT_BUFFER_PADDING_SIZE, 0);
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  const std::size_t size = std::fread(head.data(), 1, head.size() - AV_INPUT_BUFFER_PADDING_SIZE, file);
  std::fclose(file);
  AVProbeData probe{};
  probe.filename = "";
  probe.buf = head.data();
  probe.buf_size = static_cast<int>(size);
  int score = 0;
  const AVInputFormat* format = av_probe_input_format2(&probe, 1, &score);
  if (format == nullptr || score < AVPROBE_SCORE_MAX / 4) return false;
  const std::string name = format->name;
  if (name.find("image2") != std::string::npos || name.find("_pipe") != std::string::npos) return false;
  auto input = OpenInput(path);
  if (!input.ok()) return false;
  return av_find_best_stream(input->get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0) >= 0;
}

}  // namespace facefleet::media
