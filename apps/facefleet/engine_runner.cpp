#include "engine_runner.hpp"

#include <array>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "media/image_probe.hpp"
#include "media/video_reader.hpp"
#include "swap_flags.hpp"

namespace facefleet::apps {
namespace {

std::string ReadHead(const std::string& path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string head(bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(bytes));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head;
}

// Image header of `path`, or nullopt-like kUnsupportedMedia when it is not an image.
Result<media::ImageHeader> ProbeFile(const std::string& path) {
  const std::string head = ReadHead(path, 64 * 1024);
  return media::ProbeImage({reinterpret_cast<const std::uint8_t*>(head.data()), head.size()});
}

Status CheckPixels(const media::ImageHeader& header, const std::string& what, std::int64_t limit) {
  if (header.width * header.height <= limit) return Status::Ok();
  return {ErrorCode::kLimitExceeded, what + " is " + std::to_string(header.width) + "x" +
                                         std::to_string(header.height) + " pixels, more than the server's limit of " +
                                         std::to_string(limit)};
}

Result<SwapOptions> ParseJobOptions(const std::string& options_json) {
  const auto json = nlohmann::json::parse(options_json, nullptr, false);
  if (json.is_discarded()) return Status(ErrorCode::kInvalidRequest, "options: not valid JSON");
  return JobSwapOptions(json);
}

// The engine's own pre-flight check (model names known, inputs readable), with a throw-away output path.
Result<http::JobSpec> CheckNames(SwapOptions options, const std::vector<std::string>& source_paths,
                                 const std::string& target_path, const http::JobSpec& spec) {
  options.source_paths = source_paths;
  options.target_path = target_path;
  options.output_path = (std::filesystem::temp_directory_path() / ("facefleet-check" + spec.output_ext)).string();
  if (Status checked = Engine::CheckSwapFiles(options); !checked.ok()) return checked;
  return spec;
}

}  // namespace

EngineRunner::EngineRunner(EngineOptions options, JobLimits limits, std::chrono::seconds unload_after_idle)
    : options_(std::move(options)), limits_(limits), unload_after_idle_(unload_after_idle) {
  if (unload_after_idle_.count() > 0) {
    idle_thread_ = std::jthread([this](std::stop_token stop) { IdleLoop(std::move(stop)); });
  }
}

EngineRunner::~EngineRunner() {
  idle_thread_.request_stop();
  cv_.notify_all();
}

Result<double> EngineRunner::Load() {
  const auto start = std::chrono::steady_clock::now();
  auto engine = Acquire();
  if (!engine.ok()) return engine.status();
  Release();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result<std::shared_ptr<const Engine>> EngineRunner::Acquire() {
  const auto take = [this]() -> std::shared_ptr<const Engine> {
    if (engine_) ++active_;
    return engine_;
  };
  {
    std::lock_guard lock(mu_);
    if (auto engine = take()) return engine;
  }
  // One load at a time (concurrent first jobs wait for it instead of loading the models twice), without holding
  // mu_ so that readiness probes never wait for a load.
  std::lock_guard load_lock(load_mu_);
  {
    std::lock_guard lock(mu_);
    if (auto engine = take()) return engine;
  }
  auto created = Engine::Create(options_);
  std::lock_guard lock(mu_);
  attempted_ = true;
  if (!created.ok()) {
    load_error_ = created.status();
    return created.status();
  }
  engine_ = std::shared_ptr<const Engine>(std::move(*created));
  load_error_ = Status::Ok();
  core::LogInfo("engine loaded");
  return take();
}

void EngineRunner::Release() {
  std::lock_guard lock(mu_);
  if (--active_ == 0) idle_since_ = std::chrono::steady_clock::now();
}

void EngineRunner::IdleLoop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    cv_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
    if (engine_ && active_ == 0 && std::chrono::steady_clock::now() - idle_since_ >= unload_after_idle_) {
      engine_.reset();  // running jobs hold their own shared_ptr, so this never frees an engine in use
      core::LogInfo("engine unloaded after " + std::to_string(unload_after_idle_.count()) + " s idle");
    }
  }
}

bool EngineRunner::loaded() const {
  std::lock_guard lock(mu_);
  return engine_ != nullptr;
}

Status EngineRunner::Ready() {
  std::lock_guard lock(mu_);
  if (!attempted_) return {ErrorCode::kUnavailable, "models are loading"};
  return load_error_;
}

Status EngineRunner::Run(const jobs::JobContext& ctx) {
  auto options = ParseJobOptions(ctx.job->options_json);
  if (!options.ok()) return options.status();
  options->source_paths = ctx.source_paths;
  options->target_path = ctx.target_path;
  options->output_path = ctx.output_path;
  options->max_image_pixels = limits_.max_image_pixels;
  options->max_video_frames = limits_.max_video_frames;
  options->max_video_seconds = limits_.max_video_seconds;
  auto engine = Acquire();
  if (!engine.ok()) return engine.status();
  Result<SwapReport> report =
      ctx.job->is_video
          ? (*engine)->SwapVideo(*options, ctx.stop,
                                 [&ctx](const Progress& p) { ctx.progress(p.frames_done, p.frames_total); })
          : (*engine)->SwapFiles(*options);
  Release();
  if (!report.ok()) return report.status();
  if (!ctx.job->is_video) ctx.progress(1, 1);
  return Status::Ok();
}

http::SubmissionValidator MakeSubmissionValidator(JobLimits limits) {
  return [limits](const std::string& options_json, const std::vector<std::string>& source_paths,
                  const std::string& target_path) -> Result<http::JobSpec> {
    auto options = ParseJobOptions(options_json);
    if (!options.ok()) return options.status();
    for (std::size_t i = 0; i < source_paths.size(); ++i) {
      const std::string what = "source " + std::to_string(i + 1);
      auto header = ProbeFile(source_paths[i]);
      if (!header.ok()) return Status(header.status().code(), what + ": " + header.status().message());
      if (Status pixels = CheckPixels(*header, what, limits.max_image_pixels); !pixels.ok()) return pixels;
    }
    http::JobSpec spec;
    if (auto header = ProbeFile(target_path); header.ok()) {
      if (Status pixels = CheckPixels(*header, "target", limits.max_image_pixels); !pixels.ok()) return pixels;
      static constexpr std::array<const char*, 4> kExt = {".jpg", ".png", ".webp", ".png"};  // BMP -> PNG
      spec.output_ext = kExt.at(static_cast<std::size_t>(header->format));
      return CheckNames(*options, source_paths, target_path, spec);
    }
    auto video = media::VideoReader::Open(target_path, options->trim_frame_start, options->trim_frame_end);
    if (!video.ok()) return Status(video.status().code(), "target: " + video.status().message());
    const media::VideoInfo& info = (*video)->info();
    const std::int64_t frames = (*video)->end_frame() - (*video)->first_frame();
    const double seconds = info.fps() > 0 ? static_cast<double>(frames) / info.fps() : info.duration_s;
    if (frames > limits.max_video_frames || seconds > limits.max_video_seconds) {
      return Status(ErrorCode::kLimitExceeded, "target video has " + std::to_string(frames) + " frames (" +
                                                   std::to_string(static_cast<int>(seconds)) +
                                                   " s) to swap, more than the server's limit");
    }
    const std::string head = ReadHead(target_path, 64);
    spec.is_video = true;
    spec.output_ext = head.find("webm") != std::string::npos ? ".webm" : ".mp4";
    return CheckNames(*options, source_paths, target_path, spec);
  };
}

}  // namespace facefleet::apps
