// JobQueue — the durable job store and dispatch queue behind `facefleet serve` and `facefleet worker`.
//
// One interface, several backends (SQLite in WAL mode for one machine, Redis Streams for a fleet); every backend
// passes the same contract suite (tests/jobs/job_queue_contract.hpp).
//
// Life cycle of a job:
//   Submit -> queued --Lease--> running --Complete--> succeeded
//                       ^            |--Fail(retryable, attempts left)--> queued (not before now + backoff)
//                       |            |--Fail(final or no attempts left)--> failed
//                       |            |--lease expired (no Heartbeat)-----> leasable again by any worker (the next
//                       |            |     lease counts as a new attempt; with none left -> failed, "internal")
//                       |            `--Release (drain)-----------------> queued (attempt not counted)
//   Cancel: queued -> canceled at once; running -> cancel_requested (the holder learns it from Heartbeat and
//   calls Fail(kCanceled) -> canceled); finished -> kConflict.
//
// Durability: when Submit returns ok the job survives a crash (SIGKILL, power loss with the backend's fsync
// policy). Every state change made by a worker names the worker and is refused (kNotFound) when the worker's
// lease has been lost, so a job whose lease expired and was taken by another worker completes exactly once.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "facefleet/status.hpp"

namespace facefleet::jobs {

enum class JobStatus : std::uint8_t { kQueued, kRunning, kSucceeded, kFailed, kCanceled };

// "queued" | "running" | "succeeded" | "failed" | "canceled".
std::string_view JobStatusName(JobStatus status);
Result<JobStatus> ParseJobStatus(std::string_view name);
inline bool IsFinished(JobStatus s) {
  return s == JobStatus::kSucceeded || s == JobStatus::kFailed || s == JobStatus::kCanceled;
}

// Milliseconds since the Unix epoch (wall clock: stored, compared across processes and restarts).
using Millis = std::int64_t;
Millis NowMillis();

struct JobRecord {
  // Set by the submitter.
  std::string id;                        // unique, URL-safe (NewJobId)
  std::string owner;                     // API key id that submitted it; a key sees only its own jobs
  std::string options_json;              // validated job options (the CLI's options as JSON)
  std::vector<std::string> source_keys;  // storage keys of the source images
  std::string target_key;                // storage key of the target image or video
  std::string output_ext;                // ".jpg", ".png", ".mp4", ...: the result's extension
  bool is_video = false;
  std::int32_t max_attempts = 3;
  std::string idempotency_key;  // "" = none; unique per owner
  std::string request_hash;     // hash of the request body; same key + other hash -> kConflict
  std::string webhook_url;      // "" = none
  std::string webhook_events;   // comma-separated: "completed", "status", "progress"

  // Maintained by the queue.
  JobStatus status = JobStatus::kQueued;
  bool cancel_requested = false;
  std::int32_t attempts = 0;     // leases handed out (Release gives one back)
  std::int64_t frames_done = 0;  // progress of the current attempt (reset by each Lease)
  std::int64_t frames_total = 0;
  std::string result_key;     // storage key of the output once succeeded
  std::string error_code;     // ErrorInfo::name of the failure ("" unless failed/canceled)
  std::string error_message;  // one line naming the input or option involved
  std::string worker_id;      // holder of the current lease ("" when queued; the last holder once finished)
  Millis lease_expires_ms = 0;
  Millis not_before_ms = 0;  // retry back-off: not leasable before this
  Millis created_ms = 0;
  Millis started_ms = 0;     // first lease of the latest attempt (0 = never ran)
  Millis finished_ms = 0;    // 0 = not finished
  std::int64_t version = 0;  // increases with every change (SSE and webhooks detect changes with it)
};

// A new random job id: 26 characters of lowercase base32 (128 bits), sortable by nothing.
std::string NewJobId();

struct SubmitOutcome {
  JobRecord job;
  bool created = true;  // false: an earlier job with the same owner + idempotency key and request hash
};

struct ListQuery {
  std::string owner;                // required
  std::optional<JobStatus> status;  // filter
  // "" = newest first; else next_cursor of the previous page (kInvalidRequest when malformed).
  std::string cursor;
  int limit = 20;  // 1-100 (clamped)
};

struct JobPage {
  std::vector<JobRecord> jobs;  // newest first
  std::string next_cursor;      // "" = no more
};

struct QueueStats {
  std::int64_t queued = 0;   // waiting (including retries in back-off)
  std::int64_t running = 0;  // leased
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;
  std::int64_t canceled = 0;
  std::int64_t dead_letters = 0;  // jobs that failed after their last attempt or with a final error
};

struct LeaseOptions {
  std::string worker_id;
  std::chrono::milliseconds lease{30'000};  // the job is re-leasable by others after this without a heartbeat
  std::chrono::milliseconds wait{0};        // block up to this long for a job (0 = poll once)
};

// Reported by the worker holding the job.
struct Heartbeat {
  std::int64_t frames_done = 0;
  std::int64_t frames_total = 0;
};

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // Stores a new queued job durably. With an idempotency key already used by the same owner: returns the
  // existing job (created = false) when request_hash matches, kConflict otherwise. Fields the queue maintains
  // are reset; an empty id gets NewJobId(). kUsage for an empty owner, max_attempts < 1 or a source key that is
  // empty or spans lines; kConflict when the id is already taken.
  virtual Result<SubmitOutcome> Submit(JobRecord job) = 0;

  // The job, if `owner` submitted it ("" = any owner: workers, sweeper). kNotFound otherwise.
  virtual Result<JobRecord> Get(const std::string& owner, const std::string& id) = 0;
  virtual Result<JobPage> List(const ListQuery& query) = 0;

  // Hands out the oldest leasable job (queued and not in back-off, or running with an expired lease) and marks
  // it running under options.worker_id (attempts + 1); nullopt when none appeared within options.wait.
  // An expired lease whose job has no attempts left ends failed ("internal", a dead letter) instead, and one
  // whose job was asked to cancel ends canceled.
  virtual Result<std::optional<JobRecord>> Lease(const LeaseOptions& options) = 0;

  // Extends the lease and records progress. kNotFound when the lease was lost (expired and taken, or the job
  // deleted); kCanceled when a cancel was requested (the worker must stop and call Fail with kCanceled).
  virtual Status Renew(const std::string& id, const std::string& worker_id, std::chrono::milliseconds lease,
                       const Heartbeat& progress) = 0;

  // running -> succeeded with the result's storage key. Completing an already succeeded job by the same
  // worker is a no-op (idempotent); kNotFound when the lease is lost.
  virtual Status Complete(const std::string& id, const std::string& worker_id, const std::string& result_key) = 0;

  // running -> queued (retry after `backoff` while attempts < max_attempts and `retryable`) or failed.
  // error.code() == kCanceled with cancel_requested -> canceled.
  virtual Status Fail(const std::string& id, const std::string& worker_id, const Status& error, bool retryable,
                      std::chrono::milliseconds backoff) = 0;

  // running -> queued without counting the attempt (a draining worker hands the job back); a job with a
  // pending cancel request ends canceled instead. kNotFound when the lease is lost.
  virtual Status Release(const std::string& id, const std::string& worker_id) = 0;

  // See the life cycle above. Returns the job after the change. `owner` as for Get (also for Delete).
  virtual Result<JobRecord> Cancel(const std::string& owner, const std::string& id) = 0;

  // Removes the job record (any state; a running job's worker then loses its lease). kNotFound when absent.
  virtual Status Delete(const std::string& owner, const std::string& id) = 0;

  // Jobs queued or running for `owner` (the concurrent-jobs quota).
  virtual Result<std::int64_t> CountActive(const std::string& owner) = 0;
  virtual Result<QueueStats> Stats() = 0;

  // Finished jobs whose finished_ms is before `before` (retention sweeper), at most `limit`.
  virtual Result<std::vector<JobRecord>> ListFinishedBefore(Millis before, int limit) = 0;

  // Cheap liveness check of the backend (readiness probe).
  virtual Status Ping() = 0;
};

// SQLite backend (WAL, synchronous=FULL; submissions are group-committed). Creates the file if needed.
// Several processes may open the same file; Lease in one process wakes at once for jobs submitted in the same
// process and within `poll` for jobs submitted by others.
struct SqliteQueueOptions {
  std::string path;                     // database file; ":memory:" is not allowed (durability)
  std::chrono::milliseconds poll{100};  // cross-process Lease polling interval
};
Result<std::unique_ptr<JobQueue>> OpenSqliteQueue(const SqliteQueueOptions& options);

}  // namespace facefleet::jobs
