// Engine::SwapVideo: checks and limits first, then the streaming pipeline (video_pipeline.hpp) between a
// VideoReader and an atomic VideoWriter.
#include <cmath>

#include "core/log.hpp"
#include "facefleet/engine.hpp"
#include "media/image_io.hpp"
#include "media/video_reader.hpp"
#include "media/video_writer.hpp"
#include "pipeline/engine_impl.hpp"
#include "pipeline/video_pipeline.hpp"

namespace facefleet {
namespace {

// The configured limits, checked against the (trimmed) range before any frame is decoded.
Status CheckVideoLimits(const media::VideoReader& reader, const SwapOptions& o) {
  const media::VideoInfo& info = reader.info();
  const std::string& path = o.target_path;
  const std::int64_t frames = reader.end_frame() - reader.first_frame();
  if (frames > o.max_video_frames) {
    return {ErrorCode::kLimitExceeded, path + ": " + std::to_string(frames) + " frames to swap, over the limit of " +
                                           std::to_string(o.max_video_frames) + " (--max-video-frames)"};
  }
  const double seconds = reader.end_seconds() - reader.start_seconds();
  if (seconds > o.max_video_seconds) {
    return {ErrorCode::kLimitExceeded, path + ": " + std::to_string(static_cast<long long>(std::ceil(seconds))) +
                                           " s to swap, over the limit of " + std::to_string(o.max_video_seconds) +
                                           " s (--max-video-seconds)"};
  }
  const std::int64_t pixels = std::int64_t{info.width} * info.height;
  if (pixels > o.max_image_pixels) {
    return {ErrorCode::kLimitExceeded, path + ": frames are " + std::to_string(info.width) + "x" +
                                           std::to_string(info.height) + ", over the limit of " +
                                           std::to_string(o.max_image_pixels) + " pixels (--max-image-pixels)"};
  }
  return Status::Ok();
}

media::VideoWriteOptions WriteOptions(const media::VideoReader& reader, const SwapOptions& o) {
  const media::VideoInfo& info = reader.info();
  media::VideoWriteOptions w;
  w.width = info.width;
  w.height = info.height;
  w.fps_num = info.fps_num;
  w.fps_den = info.fps_den;
  w.output_fps = o.output_video_fps;
  w.encoder = o.output_video_encoder;
  w.quality = o.output_video_quality;
  w.preset = o.output_video_preset;
  if (info.has_audio) {
    w.audio_source = o.target_path;
    w.audio_start_s = reader.start_seconds();
    w.audio_end_s = reader.end_seconds();
  }
  w.audio = {o.output_audio_encoder, o.output_audio_quality, o.output_audio_volume};
  return w;
}

}  // namespace

Result<SwapReport> Engine::SwapVideo(const SwapOptions& options, std::stop_token stop,
                                     const std::function<void(const Progress&)>& progress) const {
  if (Status checked = CheckSwapFiles(options); !checked.ok()) return checked;
  if (!media::IsVideoExtension(options.output_path)) {
    return Status(ErrorCode::kUsage,
                  options.output_path + ": unsupported output extension for a video (valid: .mp4 .mov .mkv .webm)");
  }
  if (Status kind = pipeline::CheckTargetKind(options); !kind.ok()) return kind;
  auto reader = media::VideoReader::Open(options.target_path, options.trim_frame_start, options.trim_frame_end);
  if (!reader.ok()) return reader.status();
  if (Status limits = CheckVideoLimits(**reader, options); !limits.ok()) return limits;
  SwapReport report;
  std::unique_ptr<pipeline::FrameSwapper> swapper;  // null: --face-swapper-model none (transcode only)
  if (options.face_swapper_model != "none") {
    std::vector<cv::Mat> sources;
    for (const std::string& path : options.source_paths) {
      auto image = media::ReadImage(path, options.max_image_pixels);
      if (!image.ok()) return image.status();
      sources.push_back(std::move(*image));
    }
    auto prepared = impl_->Prepare(sources, options.source_paths, options, &report.timings);
    if (!prepared.ok()) return prepared.status();
    swapper = std::move(*prepared);
  }
  auto writer = media::VideoWriter::Open(options.output_path, WriteOptions(**reader, options));
  if (!writer.ok()) return writer.status();
  pipeline::VideoPipelineOptions run;
  run.max_frames = options.max_video_frames;
  run.tracker_interval = options.face_tracker_interval;
  // Smoothing is for the classic swapper, whose piecewise warp follows every landmark; the neural swappers
  // align on 5 points through a RANSAC similarity that already absorbs most per-point noise.
  run.landmark_smoothing = options.face_landmark_smoothing && options.face_swapper_model == "classic";
  run.fps = (*reader)->info().fps();
  auto stats = pipeline::RunVideoPipeline(swapper.get(), **reader, **writer, run, stop, progress);
  if (!stats.ok()) {
    const Status& s = stats.status();
    const bool named = s.message().rfind(options.target_path, 0) == 0 || s.message().rfind(options.output_path, 0) == 0;
    return named ? s : Status(s.code(), options.target_path + ": " + s.message());
  }
  if (stats->frames == 0)
    return Status(ErrorCode::kInputUnreadable, options.target_path + ": no frame could be decoded");
  if (Status finished = (*writer)->Finish(); !finished.ok()) return finished;
  report.video_frames = stats->frames;
  report.target_faces = stats->target_faces;
  report.swapped_faces = stats->swapped_faces;
  report.video_truncated = (*reader)->truncated();
  if (report.video_truncated) {
    core::LogWarn(options.target_path + ": video is truncated or corrupt; swapped the " +
                  std::to_string(stats->frames) + " frames that decoded");
  }
  return report;
}

}  // namespace facefleet
