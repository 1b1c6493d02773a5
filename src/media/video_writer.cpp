#include "media/video_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

extern "C" {
#include <libavutil/opt.h>
}

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <random>

#include <opencv2/core.hpp>

#include "media/av_util.hpp"

namespace facefleet::media {

struct VideoWriter::State {
  std::string path;
  std::string temp;
  OutputFormatPtr output;
  CodecContextPtr encoder;
  AVStream* stream = nullptr;
  std::unique_ptr<AudioTransfer> audio;
  SwsPtr sws;
  FramePtr frame = MakeFrame();
  PacketPtr packet = MakePacket();
  VideoWriteOptions options;
  AVRational source_rate{25, 1};
  AVRational output_rate{25, 1};
  std::int64_t frames_in = 0;   // source frames passed to Write
  std::int64_t frames_out = 0;  // frames sent to the encoder
  bool finished = false;

  ~State() {
    if (finished || temp.empty()) return;
    audio.reset();
    output.reset();  // closes the file before it is removed
    ::unlink(temp.c_str());
  }
};

namespace {

constexpr std::array<std::string_view, 3> kEncoders = {"libx264", "libx265", "libvpx-vp9"};

std::string Extension(std::string_view path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// libavformat muxer for an extension, or "" when we do not write it.
const char* MuxerFor(std::string_view path) {
  const std::string ext = Extension(path);
  if (ext == ".mp4") return "mp4";
  if (ext == ".mov") return "mov";
  if (ext == ".mkv") return "matroska";
  if (ext == ".webm") return "webm";
  return "";
}

// vp9's speed knobs for an x264-style preset name: realtime for the fast presets, good quality otherwise.
void SetVp9Speed(AVCodecContext* c, const std::string& preset) {
  static constexpr std::array<std::string_view, 9> kPresets = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                                               "medium",    "slow",      "slower",   "veryslow"};
  const auto it = std::find(kPresets.begin(), kPresets.end(), preset);
  const int rank = it == kPresets.end() ? 2 : static_cast<int>(it - kPresets.begin());
  av_opt_set(c->priv_data, "deadline", rank <= 2 ? "realtime" : "good", 0);
  av_opt_set_int(c->priv_data, "cpu-used", std::max(8 - rank, 0), 0);
  av_opt_set_int(c->priv_data, "row-mt", 1, 0);
}

Status OpenEncoder(VideoWriter::State& s, const std::string& name) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (codec == nullptr || codec->type != AVMEDIA_TYPE_VIDEO) {
    return {ErrorCode::kUsage,
            "--output-video-encoder '" + name + "' is not available (valid: libx264, libx265, libvpx-vp9)"};
  }
  if (avformat_query_codec(s.output->oformat, codec->id, FF_COMPLIANCE_NORMAL) != 1) {
    return {ErrorCode::kUsage,
            s.path + ": --output-video-encoder " + name + " cannot be stored in " + Extension(s.path)};
  }
  s.encoder.reset(avcodec_alloc_context3(codec));
  if (!s.encoder) return {ErrorCode::kInternal, "out of memory"};
  AVCodecContext* c = s.encoder.get();
  c->width = (s.options.width + 1) & ~1;
  c->height = (s.options.height + 1) & ~1;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->framerate = s.output_rate;
  c->time_base = av_inv_q(s.output_rate);
  c->sample_aspect_ratio = {1, 1};
  if ((s.output->oformat->flags & AVFMT_GLOBALHEADER) != 0) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  const int crf = CrfForQuality(name, s.options.quality);
  av_opt_set_int(c->priv_data, "crf", crf, 0);
  if (name == "libvpx-vp9") {
    c->bit_rate = 0;  // constant quality
    SetVp9Speed(c, s.options.preset);
  } else {
    if (av_opt_set(c->priv_data, "preset", s.options.preset.c_str(), 0) < 0) {
      return {ErrorCode::kUsage, "unknown --output-video-preset '" + s.options.preset + "'"};
    }
    if (name == "libx265") av_opt_set(c->priv_data, "x265-params", "log-level=error", 0);
  }
  if (const int err = avcodec_open2(c, codec, nullptr); err < 0) {
    return {ErrorCode::kUsage,
            s.path + ": cannot open " + name + " (preset '" + s.options.preset + "'): " + AvErrorText(err)};
  }
  s.stream = avformat_new_stream(s.output.get(), nullptr);
  if (s.stream == nullptr) return {ErrorCode::kInternal, "out of memory"};
  avcodec_parameters_from_context(s.stream->codecpar, c);
  s.stream->time_base = c->time_base;
  s.stream->avg_frame_rate = s.output_rate;
  if (name == "libx265" && std::string(s.output->oformat->name) != "matroska") {
    s.stream->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');  // plays in QuickTime/Safari (hev1 does not)
  }
  s.frame->format = c->pix_fmt;
  s.frame->width = c->width;
  s.frame->height = c->height;
  if (const int err = av_frame_get_buffer(s.frame.get(), 0); err < 0) return {ErrorCode::kInternal, AvErrorText(err)};
  return Status::Ok();
}

// Reserves a unique temporary name beside `path` (created empty with O_EXCL so no two writers collide).
Result<std::string> ReserveTemp(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::random_device random;
  for (int attempt = 0; attempt < 16; ++attempt) {
    const std::string temp =
        (dir / ("." + target.filename().string() + "." + std::to_string(random()) + ".tmp")).string();
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      ::close(fd);
      return temp;
    }
    if (errno != EEXIST) break;
  }
  return Status(ErrorCode::kOutputFailed,
                path + ": cannot create file: " + std::error_code(errno, std::generic_category()).message());
}

Status EncodeAndWrite(VideoWriter::State& s, AVFrame* frame) {
  if (const int err = avcodec_send_frame(s.encoder.get(), frame); err < 0) {
    return {ErrorCode::kOutputFailed, s.path + ": video encoder: " + AvErrorText(err)};
  }
  while (true) {
    const int err = avcodec_receive_packet(s.encoder.get(), s.packet.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::Ok();
    if (err < 0) return {ErrorCode::kOutputFailed, s.path + ": video encoder: " + AvErrorText(err)};
    s.packet->stream_index = s.stream->index;
    av_packet_rescale_ts(s.packet.get(), s.encoder->time_base, s.stream->time_base);
    if (const int w = av_interleaved_write_frame(s.output.get(), s.packet.get()); w < 0) {
      return {ErrorCode::kOutputFailed, s.path + ": write failed: " + AvErrorText(w)};
    }
  }
}

}  // namespace

std::span<const std::string_view> VideoEncoderNames() { return kEncoders; }
bool IsVideoExtension(std::string_view path) { return *MuxerFor(path) != '\0'; }

int CrfForQuality(std::string_view encoder, int quality) {
  const int q = std::clamp(quality, 0, 100);
  if (encoder == "libvpx-vp9") return static_cast<int>(std::lround(63 - q * 0.63));
  return static_cast<int>(std::lround(51 - q * 0.51));
}

Result<std::unique_ptr<VideoWriter>> VideoWriter::Open(const std::string& path, const VideoWriteOptions& options) {
  InitAvLogging();
  const char* muxer = MuxerFor(path);
  if (*muxer == '\0') {
    return Status(ErrorCode::kUsage, path + ": unsupported output extension (valid: .mp4 .mov .mkv .webm)");
  }
  if (options.width <= 0 || options.height <= 0) return Status(ErrorCode::kInternal, "video size not set");
  auto s = std::make_unique<State>();
  s->path = path;
  s->options = options;
  s->source_rate = {options.fps_num, options.fps_den};
  s->output_rate = options.output_fps > 0 ? av_d2q(options.output_fps, 100000) : s->source_rate;
  auto temp = ReserveTemp(path);
  if (!temp.ok()) return temp.status();
  s->temp = *temp;
  AVFormatContext* raw = nullptr;
  if (avformat_alloc_output_context2(&raw, nullptr, muxer, s->temp.c_str()) < 0 || raw == nullptr) {
    return Status(ErrorCode::kInternal, std::string("cannot create the ") + muxer + " muxer");
  }
  s->output.reset(raw);
  const bool webm = std::string(muxer) == "webm";
  const std::string encoder = !options.encoder.empty() ? options.encoder : webm ? "libvpx-vp9" : "libx264";
  if (Status st = OpenEncoder(*s, encoder); !st.ok()) return st;
  if (!options.audio_source.empty()) {
    auto audio =
        AudioTransfer::Create(options.audio_source, raw, options.audio_start_s, options.audio_end_s, options.audio);
    if (!audio.ok()) return audio.status();
    s->audio = std::move(*audio);
  }
  if (const int err = avio_open(&raw->pb, s->temp.c_str(), AVIO_FLAG_WRITE); err < 0) {
    return Status(ErrorCode::kOutputFailed, path + ": cannot create file: " + AvErrorText(err));
  }
  AVDictionary* header_options = nullptr;
  if (!webm && std::string(muxer) != "matroska") av_dict_set(&header_options, "movflags", "+faststart", 0);
  const int err = avformat_write_header(raw, &header_options);
  av_dict_free(&header_options);
  if (err < 0) return Status(ErrorCode::kOutputFailed, path + ": cannot write header: " + AvErrorText(err));
  return std::unique_ptr<VideoWriter>(new VideoWriter(std::move(s)));
}

VideoWriter::VideoWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
VideoWriter::~VideoWriter() = default;
std::int64_t VideoWriter::frames_written() const { return state_->frames_out; }

namespace {

// Counts one more source frame and returns how many output frames are due once it has been shown:
// ceil((i + 1) * out_rate / source_rate).
std::int64_t NextDue(VideoWriter::State& s) {
  ++s.frames_in;
  return av_rescale_rnd(s.frames_in, std::int64_t{s.source_rate.den} * s.output_rate.num,
                        std::int64_t{s.source_rate.num} * s.output_rate.den, AV_ROUND_UP);
}

// Encodes `frame` (the encoder's size and pixel format) once per output frame up to `due` (repeated when the
// output rate is higher), with the audio interleaved up to each frame's time.
Status EncodeDue(VideoWriter::State& s, AVFrame* frame, std::int64_t due) {
  while (s.frames_out < due) {
    if (s.audio) {
      if (Status st = s.audio->WriteUntil(static_cast<double>(s.frames_out) / av_q2d(s.output_rate)); !st.ok())
        return st;
    }
    frame->pts = s.frames_out++;
    if (Status st = EncodeAndWrite(s, frame); !st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace

Status VideoWriter::Write(const cv::Mat& bgr) {
  State& s = *state_;
  if (bgr.cols != s.options.width || bgr.rows != s.options.height || bgr.type() != CV_8UC3) {
    return {ErrorCode::kInternal, s.path + ": frame size changed mid-stream"};
  }
  const std::int64_t due = NextDue(s);
  if (s.frames_out >= due) return Status::Ok();  // dropped by a lower output rate: not even converted
  cv::Mat even = bgr;
  if (bgr.cols != s.encoder->width || bgr.rows != s.encoder->height) {
    cv::copyMakeBorder(bgr, even, 0, s.encoder->height - bgr.rows, 0, s.encoder->width - bgr.cols,
                       cv::BORDER_REPLICATE);
  }
  s.sws.reset(sws_getCachedContext(s.sws.release(), even.cols, even.rows, AV_PIX_FMT_BGR24, even.cols, even.rows,
                                   AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!s.sws) return {ErrorCode::kInternal, "no BGR to YUV converter"};
  if (const int err = av_frame_make_writable(s.frame.get()); err < 0) return {ErrorCode::kInternal, AvErrorText(err)};
  const std::uint8_t* planes[1] = {even.data};
  const int strides[1] = {static_cast<int>(even.step)};
  sws_scale(s.sws.get(), planes, strides, 0, even.rows, s.frame->data, s.frame->linesize);
  return EncodeDue(s, s.frame.get(), due);
}

Status VideoWriter::WriteRaw(AVFrame* frame) {
  State& s = *state_;
  if (frame->width != s.encoder->width || frame->height != s.encoder->height) {
    return {ErrorCode::kInternal, s.path + ": frame size changed mid-stream"};
  }
  const std::int64_t due = NextDue(s);
  if (s.frames_out >= due) return Status::Ok();
  if (frame->format == s.encoder->pix_fmt) {
    // The decoder's picture type would force the encoder's frame types (an I frame of the source becomes a
    // keyframe here); the encoder chooses its own, as with a converted frame.
    frame->pict_type = AV_PICTURE_TYPE_NONE;
    return EncodeDue(s, frame, due);
  }
  // Another YUV layout, bit depth or range: one same-size conversion, still no round trip through BGR.
  const auto format = static_cast<AVPixelFormat>(frame->format);
  s.sws.reset(sws_getCachedContext(s.sws.release(), frame->width, frame->height, format, frame->width, frame->height,
                                   s.encoder->pix_fmt, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!s.sws) return {ErrorCode::kUnsupportedMedia, s.path + ": unsupported pixel format"};
  if (const int err = av_frame_make_writable(s.frame.get()); err < 0) return {ErrorCode::kInternal, AvErrorText(err)};
  sws_scale(s.sws.get(), frame->data, frame->linesize, 0, frame->height, s.frame->data, s.frame->linesize);
  return EncodeDue(s, s.frame.get(), due);
}

Status VideoWriter::Finish() {
  State& s = *state_;
  if (Status st = EncodeAndWrite(s, nullptr); !st.ok()) return st;
  if (s.audio) {
    if (Status st = s.audio->Finish(); !st.ok()) return st;
  }
  if (const int err = av_write_trailer(s.output.get()); err < 0) {
    return {ErrorCode::kOutputFailed, s.path + ": write failed: " + AvErrorText(err)};
  }
  if (const int err = avio_closep(&s.output->pb); err < 0) {
    return {ErrorCode::kOutputFailed, s.path + ": write failed: " + AvErrorText(err)};
  }
  if (const int fd = ::open(s.temp.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    const int synced = ::fsync(fd);
    ::close(fd);
    if (synced != 0) return {ErrorCode::kOutputFailed, s.path + ": write failed: disk full or I/O error"};
  }
  if (::rename(s.temp.c_str(), s.path.c_str()) != 0) {
    return {ErrorCode::kOutputFailed,
            s.path + ": cannot rename into place: " + std::error_code(errno, std::generic_category()).message()};
  }
  s.finished = true;
  return Status::Ok();
}

}  // namespace facefleet::media
