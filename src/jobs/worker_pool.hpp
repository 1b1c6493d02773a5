// WorkerPool — N threads that lease jobs from a JobQueue, run them through a JobRunner and store the results.
//
// Thread model: `workers` threads each loop Lease -> run -> store -> Complete/Fail; one heartbeat thread renews
// every running job's lease each `heartbeat` and carries progress, cancel requests and lost leases back to the
// runners through their stop tokens (so a cancel reaches a running job within one heartbeat, or at once through
// Cancel() in the same process). The pool never holds a lock while a job runs.
//
// Failure policy: errors caused by the job itself (bad input, no face, limits, unsupported media, bad options)
// fail the job at once; everything else (internal, output, model unavailable, backend unavailable) is retried
// with exponential back-off until the job's max_attempts. A job running past `job_timeout` is stopped and fails
// with limit_exceeded. Draining stops leasing, lets running jobs finish until the drain deadline, then stops
// them and hands them back to the queue (Release) for another worker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_queue.hpp"
#include "storage/storage.hpp"

namespace facefleet::jobs {

// What a runner gets for one job. Paths are local files; the runner writes output_path (whose extension is the
// job's output_ext) and reports progress (frames) from any one thread.
struct JobContext {
  const JobRecord* job = nullptr;
  std::vector<std::string> source_paths;
  std::string target_path;
  std::string output_path;
  std::stop_token stop;
  std::function<void(std::int64_t frames_done, std::int64_t frames_total)> progress;
};

// Runs one job (the engine adapter lives in apps/facefleet; tests use fakes). Must be safe to call from several
// worker threads at once and must return soon after ctx.stop fires (kCanceled).
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  virtual Status Run(const JobContext& ctx) = 0;
  // ok when the runner can take jobs (models loadable); the pool takes no job while this fails.
  virtual Status Ready() = 0;
};

// Observes job changes made by the pool (the server fans them out to SSE streams, webhooks and metrics).
// Called on worker or heartbeat threads; must not block for long.
enum class JobEvent : std::uint8_t { kStarted, kProgress, kSucceeded, kFailed, kCanceled, kRetrying, kReleased };
using JobListener = std::function<void(JobEvent event, const JobRecord& job)>;

struct WorkerPoolOptions {
  int workers = 1;
  std::string worker_id = "worker";  // prefix; each thread appends "-<n>", unique per process incarnation
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds job_timeout{3'600'000};
  std::chrono::milliseconds retry_backoff{2'000};  // doubled per attempt
  std::chrono::milliseconds lease_wait{1'000};     // how long one Lease call blocks
  std::string scratch_dir;                         // per-job working files (inputs from remote storage, outputs)
  // 0 = no limit. Otherwise the pool leases at most this many jobs in all (a Kubernetes Job / KEDA ScaledJob pod
  // runs its share and exits); Exhausted() tells the owner when they are done.
  int max_jobs = 0;
};

struct WorkerPoolStats {
  int workers = 0;
  int busy = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t retried = 0;
};

class WorkerPool {
 public:
  // `queue`, `storage` and `runner` must outlive the pool.
  WorkerPool(JobQueue& queue, storage::Storage& storage, JobRunner& runner, WorkerPoolOptions options,
             JobListener listener = nullptr);
  ~WorkerPool();  // Drain(0)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Start();

  // Stops a job running in this process at once (the API's cancel/delete path); false when not running here.
  bool Cancel(const std::string& job_id);

  // Stops leasing; waits up to `timeout` for running jobs, then stops the rest and releases them to the queue.
  // Returns true when every running job finished on its own. Idempotent.
  bool Drain(std::chrono::milliseconds timeout);

  WorkerPoolStats stats() const;

  // True once max_jobs jobs were leased and all of them finished (never when max_jobs is 0).
  bool Exhausted() const;
  // How long no job has been running (0 while one runs); counted from Start() or the last job's end.
  std::chrono::milliseconds IdleFor() const;

 private:
  struct Running;
  void WorkerLoop(int index);
  void HeartbeatLoop(std::stop_token stop);
  void RunOne(const std::string& worker_id, JobRecord job);
  Status StoreResult(const JobRecord& job, const std::string& output_path, std::string& result_key);
  void Finish(const std::string& worker_id, const JobRecord& job, const Status& status, const Running& running);
  void Notify(JobEvent event, const JobRecord& job);

  JobQueue& queue_;
  storage::Storage& storage_;
  JobRunner& runner_;
  const WorkerPoolOptions options_;
  JobListener listener_;

  std::atomic<bool> accepting_{true};
  std::atomic<int> leases_left_;  // max_jobs minus leases taken or being attempted; unused when max_jobs is 0
  std::vector<std::jthread> threads_;
  std::jthread heartbeat_;

  mutable std::mutex mu_;  // guards running_ (jobs in flight, for heartbeats and Cancel), stats_, started_, idle_since_
  std::condition_variable idle_cv_;
  std::map<std::string, std::shared_ptr<Running>> running_;
  WorkerPoolStats stats_;
  int started_ = 0;  // jobs leased so far
  std::chrono::steady_clock::time_point idle_since_ = std::chrono::steady_clock::now();
};

// The error codes that are the job's own fault: retrying cannot help.
bool IsPermanentJobError(ErrorCode code);

}  // namespace facefleet::jobs
