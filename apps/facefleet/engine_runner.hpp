// The job service's bridge to the engine: runs jobs (jobs::JobRunner) and checks submissions
// (http::SubmissionValidator) with the same option table as `facefleet swap`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "facefleet/facefleet.hpp"
#include "http/api_server.hpp"
#include "jobs/worker_pool.hpp"

namespace facefleet::apps {

// Limits the server applies to every job (clients cannot raise them).
struct JobLimits {
  std::int64_t max_image_pixels = 40'000'000;
  std::int64_t max_video_frames = 1'000'000;
  double max_video_seconds = 4 * 3600;
};

// Owns the Engine: created at start (models loaded once, shared by every worker thread), freed after
// `unload_after_idle` without jobs (0 = never) and re-created by the next job. Thread-safe.
class EngineRunner : public jobs::JobRunner {
 public:
  EngineRunner(EngineOptions options, JobLimits limits, std::chrono::seconds unload_after_idle);
  ~EngineRunner() override;
  EngineRunner(const EngineRunner&) = delete;
  EngineRunner& operator=(const EngineRunner&) = delete;

  // Loads the engine now; returns how long it took (for the model-load metric) or the load error.
  Result<double> Load();

  Status Run(const jobs::JobContext& ctx) override;
  Status Ready() override;

  // True while an engine is loaded (the unload-after-idle test and the readiness probe).
  bool loaded() const;

 private:
  Result<std::shared_ptr<const Engine>> Acquire();
  void Release();
  void IdleLoop(std::stop_token stop);

  const EngineOptions options_;
  const JobLimits limits_;
  const std::chrono::seconds unload_after_idle_;
  std::mutex load_mu_;     // serialises model loads
  mutable std::mutex mu_;  // guards engine_, load_error_, attempted_, active_, idle_since_ (never held while loading)
  std::condition_variable_any cv_;
  std::shared_ptr<const Engine> engine_;
  Status load_error_;
  bool attempted_ = false;  // a load finished (ok or not); Ready() is kUnavailable before
  int active_ = 0;
  std::chrono::steady_clock::time_point idle_since_ = std::chrono::steady_clock::now();
  std::jthread idle_thread_;
};

// The submission check for `facefleet serve`: parses options like `facefleet swap` does, probes the stored
// inputs (image pixels, video duration and frames) against `limits`, and picks the output extension
// (the target's image format; .mp4 for videos, .webm for WebM targets).
http::SubmissionValidator MakeSubmissionValidator(JobLimits limits);

}  // namespace facefleet::apps
