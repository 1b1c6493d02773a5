#include "jobs/worker_pool.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <system_error>
#include <thread>

#include "core/log.hpp"

namespace facefleet::jobs {

namespace {

// Why a running job was stopped; the first reason wins.
enum StopReason : int { kNone = 0, kCanceledByUser, kTimedOut, kLeaseLost, kDraining };

// Settles a finished job with one queue call (Complete, Fail). A queue briefly unreachable (a Redis restart or
// failover) must not drop the outcome, which would re-run the job once its lease lapsed: the call is retried for up
// to one lease, while the heartbeat thread keeps renewing that lease.
Status Settle(std::chrono::milliseconds patience, const std::function<Status()>& call) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  Status result = call();
  while (result.code() == ErrorCode::kUnavailable && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    result = call();
  }
  return result;
}

}  // namespace

struct WorkerPool::Running {
  std::string worker_id;
  JobRecord job;
  std::stop_source stop;
  std::atomic<int> reason{kNone};
  std::atomic<std::int64_t> frames_done{0};
  std::atomic<std::int64_t> frames_total{0};
  std::int64_t frames_reported = -1;  // heartbeat thread only
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  void StopFor(StopReason why) {
    int expected = kNone;
    reason.compare_exchange_strong(expected, why);
    stop.request_stop();
  }
};

bool IsPermanentJobError(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
    case ErrorCode::kInputUnreadable:
    case ErrorCode::kUnsupportedMedia:
    case ErrorCode::kNoFace:
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kInvalidRequest:
    case ErrorCode::kCanceled:
      return true;
    default:
      return false;
  }
}

WorkerPool::WorkerPool(JobQueue& queue, storage::Storage& storage, JobRunner& runner, WorkerPoolOptions options,
                       JobListener listener)
    : queue_(queue),
      storage_(storage),
      runner_(runner),
      options_(std::move(options)),
      listener_(std::move(listener)),
      leases_left_(options_.max_jobs) {
  stats_.workers = options_.workers;
}

WorkerPool::~WorkerPool() { Drain(std::chrono::milliseconds(0)); }

void WorkerPool::Start() {
  {
    std::lock_guard lock(mu_);
    idle_since_ = std::chrono::steady_clock::now();
  }
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  heartbeat_ = std::jthread([this](std::stop_token stop) { HeartbeatLoop(std::move(stop)); });
}

void WorkerPool::Notify(JobEvent event, const JobRecord& job) {
  if (listener_) listener_(event, job);
}

void WorkerPool::WorkerLoop(int index) {
  const std::string worker_id = options_.worker_id + "-" + std::to_string(index);
  bool reported_not_ready = false;
  while (accepting_.load()) {
    // A runner that cannot load its models takes no job: the job stays queued for a healthy worker.
    if (Status ready = runner_.Ready(); !ready.ok()) {
      if (!reported_not_ready) core::Log(core::LogLevel::kError, "worker not ready: " + ready.ToString());
      reported_not_ready = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    reported_not_ready = false;
    // With max_jobs, a lease attempt first reserves one of the remaining jobs, so threads never overshoot.
    if (options_.max_jobs > 0 && leases_left_.fetch_sub(1) <= 0) {
      leases_left_.fetch_add(1);
      return;
    }
    auto leased = queue_.Lease({worker_id, options_.lease, options_.lease_wait});
    if (options_.max_jobs > 0 && !(leased.ok() && leased->has_value())) leases_left_.fetch_add(1);
    if (!leased.ok()) {
      core::Log(core::LogLevel::kWarn, "lease failed: " + leased.status().ToString());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (!leased->has_value()) continue;
    if (!accepting_.load()) {  // drained while waiting: hand the job straight back
      (void)queue_.Release((*leased)->id, worker_id);
      break;
    }
    RunOne(worker_id, std::move(**leased));
  }
}

void WorkerPool::RunOne(const std::string& worker_id, JobRecord job) {
  auto running = std::make_shared<Running>();
  running->worker_id = worker_id;
  running->job = job;
  {
    std::lock_guard lock(mu_);
    running_[job.id] = running;
    ++stats_.busy;
    ++started_;
  }
  Notify(JobEvent::kStarted, job);

  const std::filesystem::path scratch = std::filesystem::path(options_.scratch_dir) / job.id;
  std::error_code ec;
  std::filesystem::create_directories(scratch, ec);
  JobContext ctx;
  ctx.job = &running->job;
  ctx.stop = running->stop.get_token();
  ctx.progress = [r = running.get()](std::int64_t done, std::int64_t total) {
    r->frames_done.store(done);
    r->frames_total.store(total);
  };
  ctx.output_path = (scratch / ("result" + job.output_ext)).string();
  Status status = ec ? Status(ErrorCode::kOutputFailed, scratch.string() + ": " + ec.message()) : Status::Ok();
  for (std::size_t i = 0; status.ok() && i <= job.source_keys.size(); ++i) {
    const bool is_target = i == job.source_keys.size();
    auto path = storage_.LocalPath(is_target ? job.target_key : job.source_keys[i], scratch.string());
    if (!path.ok()) {
      // An input deleted under a queued job cannot come back: the job fails instead of retrying.
      status = path.status().code() == ErrorCode::kNotFound
                   ? Status(ErrorCode::kInputUnreadable, "job input missing: " + path.status().message())
                   : path.status();
    } else if (is_target) {
      ctx.target_path = *path;
    } else {
      ctx.source_paths.push_back(*path);
    }
  }
  if (status.ok()) {
    try {
      status = runner_.Run(ctx);
    } catch (const std::exception& e) {  // runners should not throw; a throwing one must not kill the worker
      status = Status(ErrorCode::kInternal, std::string("job runner threw: ") + e.what());
    }
  }
  std::string result_key;
  if (status.ok() && running->reason.load() == kNone) {
    // Still the holder? A worker whose lease was taken over must not (re)write the winner's result. This renewal
    // also records the final progress, which a fast job never heartbeated.
    const Heartbeat last{running->frames_done.load(), running->frames_total.load()};
    if (queue_.Renew(job.id, worker_id, options_.lease, last).code() == ErrorCode::kNotFound) {
      running->StopFor(kLeaseLost);
    }
  }
  if (status.ok() && running->reason.load() == kNone) status = StoreResult(job, ctx.output_path, result_key);
  job.result_key = result_key;
  Finish(worker_id, job, status, *running);
  std::filesystem::remove_all(scratch, ec);
  {
    std::lock_guard lock(mu_);
    running_.erase(job.id);
    if (--stats_.busy == 0) idle_since_ = std::chrono::steady_clock::now();
  }
  idle_cv_.notify_all();
}

Status WorkerPool::StoreResult(const JobRecord& job, const std::string& output_path, std::string& result_key) {
  result_key = "jobs/" + job.id + "/result" + job.output_ext;
  std::ifstream in(output_path, std::ios::binary);
  if (!in) return {ErrorCode::kOutputFailed, "job produced no output file " + output_path};
  auto writer = storage_.OpenWriter(result_key, "application/octet-stream");
  if (!writer.ok()) return writer.status();
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    if (Status appended = (*writer)->Append({buffer.data(), got}); !appended.ok()) return appended;
  }
  auto committed = (*writer)->Commit();
  return committed.ok() ? Status::Ok() : committed.status();
}

void WorkerPool::Finish(const std::string& worker_id, const JobRecord& job, const Status& status,
                        const Running& running) {
  const auto after = [&](JobEvent event) {
    auto current = queue_.Get("", job.id);
    Notify(event, current.ok() ? *current : job);
  };
  const int reason = running.reason.load();
  if (reason == kLeaseLost) {
    core::Log(core::LogLevel::kWarn, "job " + job.id + ": lease lost (expired, deleted or taken); result dropped");
    return;
  }
  if (reason == kDraining) {
    if (queue_.Release(job.id, worker_id).ok()) after(JobEvent::kReleased);
    return;
  }
  Status outcome = status;
  if (reason == kCanceledByUser) outcome = Status(ErrorCode::kCanceled, "canceled by the client");
  if (reason == kTimedOut) {
    outcome = Status(ErrorCode::kLimitExceeded, "job ran longer than the job timeout (" +
                                                    std::to_string(options_.job_timeout.count() / 1000) + " s)");
  }
  if (outcome.ok()) {
    if (Status done = Settle(options_.lease, [&] { return queue_.Complete(job.id, worker_id, job.result_key); });
        !done.ok()) {
      core::Log(core::LogLevel::kWarn, "job " + job.id + ": completion refused: " + done.ToString());
      return;
    }
    {
      std::lock_guard lock(mu_);
      ++stats_.succeeded;
    }
    core::Log(core::LogLevel::kInfo, "job " + job.id + " succeeded by " + worker_id);
    after(JobEvent::kSucceeded);
    return;
  }
  const bool retryable = !IsPermanentJobError(outcome.code()) && reason == kNone;
  const int doublings = std::clamp(job.attempts - 1, 0, 10);
  const auto backoff = options_.retry_backoff * (1LL << doublings);
  if (Status failed =
          Settle(options_.lease, [&] { return queue_.Fail(job.id, worker_id, outcome, retryable, backoff); });
      !failed.ok()) {
    core::Log(core::LogLevel::kWarn, "job " + job.id + ": failure not recorded: " + failed.ToString());
    return;
  }
  auto current = queue_.Get("", job.id);
  const bool requeued = current.ok() && current->status == JobStatus::kQueued;
  {
    std::lock_guard lock(mu_);
    ++(requeued ? stats_.retried : stats_.failed);
  }
  core::Log(core::LogLevel::kInfo,
            "job " + job.id + (requeued ? " will be retried: " : " ended: ") + outcome.ToString());
  const JobEvent event = requeued                                                    ? JobEvent::kRetrying
                         : (current.ok() && current->status == JobStatus::kCanceled) ? JobEvent::kCanceled
                                                                                     : JobEvent::kFailed;
  Notify(event, current.ok() ? *current : job);
}

void WorkerPool::HeartbeatLoop(std::stop_token stop) {
  std::mutex sleep_mu;
  std::condition_variable_any sleep_cv;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(sleep_mu);
      sleep_cv.wait_for(lock, stop, options_.heartbeat, [] { return false; });
    }
    std::vector<std::shared_ptr<Running>> snapshot;
    {
      std::lock_guard lock(mu_);
      for (const auto& [id, running] : running_) snapshot.push_back(running);
    }
    for (const auto& running : snapshot) {
      if (running->stop.stop_requested()) continue;
      const Heartbeat progress{running->frames_done.load(), running->frames_total.load()};
      const Status renewed = queue_.Renew(running->job.id, running->worker_id, options_.lease, progress);
      if (renewed.code() == ErrorCode::kCanceled) running->StopFor(kCanceledByUser);
      if (renewed.code() == ErrorCode::kNotFound) running->StopFor(kLeaseLost);
      if (std::chrono::steady_clock::now() - running->started > options_.job_timeout) running->StopFor(kTimedOut);
      if (renewed.ok() && progress.frames_done != running->frames_reported) {
        running->frames_reported = progress.frames_done;
        JobRecord update = running->job;
        update.frames_done = progress.frames_done;
        update.frames_total = progress.frames_total;
        Notify(JobEvent::kProgress, update);
      }
    }
  }
}

bool WorkerPool::Cancel(const std::string& job_id) {
  std::lock_guard lock(mu_);
  const auto it = running_.find(job_id);
  if (it == running_.end()) return false;
  it->second->StopFor(kCanceledByUser);
  return true;
}

bool WorkerPool::Drain(std::chrono::milliseconds timeout) {
  accepting_.store(false);
  bool finished_on_own = true;
  {
    std::unique_lock lock(mu_);
    if (!idle_cv_.wait_for(lock, timeout, [this] { return running_.empty(); })) {
      finished_on_own = false;
      for (auto& [id, running] : running_) running->StopFor(kDraining);
      idle_cv_.wait(lock, [this] { return running_.empty(); });
    }
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  heartbeat_ = std::jthread();  // requests stop and joins
  return finished_on_own;
}

WorkerPoolStats WorkerPool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool WorkerPool::Exhausted() const {
  std::lock_guard lock(mu_);
  return options_.max_jobs > 0 && started_ >= options_.max_jobs && stats_.busy == 0;
}

std::chrono::milliseconds WorkerPool::IdleFor() const {
  std::lock_guard lock(mu_);
  if (stats_.busy > 0) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - idle_since_);
}

}  // namespace facefleet::jobs
