// SQLite backend of JobQueue: one database file in WAL mode, shareable by several processes.
//
// Connections: one writer connection (writer_mutex_) carries every change; a pool of query-only reader
// connections serves Get/List/Stats/CountActive/ListFinishedBefore/Ping, so reads never queue behind a write
// (WAL readers see the last committed state without waiting for the writer).
//
// Group commit: with synchronous=FULL every commit costs an fsync (milliseconds), which would cap one-job
// transactions at a few hundred Submits per second. Concurrent Submit calls therefore queue their job; the
// first caller that finds no commit in progress becomes the leader, writes every queued job in one transaction
// and hands each caller its own outcome. Followers that arrive during that fsync form the next batch.
//
// Cross-process safety: every read-then-write runs under BEGIN IMMEDIATE and every other change is a single
// statement whose WHERE names the expected state, so two processes can never lease the same job or both
// complete it.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include "jobs/job_queue.hpp"
#include "jobs/sqlite_db.hpp"
#include "jobs/sqlite_jobs.hpp"

namespace facefleet::jobs {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// Bounds one transaction's size (and so the latency of the callers in it); a backlog forms several batches.
constexpr std::size_t kMaxSubmitBatch = 1000;
constexpr std::size_t kMaxIdleReaders = 8;
constexpr int kMaxPageSize = 100;

Status NotFound(const std::string& id) { return {ErrorCode::kNotFound, "job " + id + " not found"}; }

Status LeaseLost(const std::string& id, const std::string& worker_id) {
  return {ErrorCode::kNotFound, "job " + id + " is not leased by worker '" + worker_id +
                                    "' (its lease expired and was taken over, or the job finished or was deleted)"};
}

class SqliteQueue final : public JobQueue {
 public:
  SqliteQueue(std::unique_ptr<Connection> writer, const SqliteQueueOptions& options)
      : path_(options.path), poll_(std::max(options.poll, std::chrono::milliseconds(1))), writer_(std::move(writer)) {}

  Result<SubmitOutcome> Submit(JobRecord job) override;
  Result<JobRecord> Get(const std::string& owner, const std::string& id) override;
  Result<JobPage> List(const ListQuery& query) override;
  Result<std::optional<JobRecord>> Lease(const LeaseOptions& options) override;
  Status Renew(const std::string& id, const std::string& worker_id, std::chrono::milliseconds lease,
               const Heartbeat& progress) override;
  Status Complete(const std::string& id, const std::string& worker_id, const std::string& result_key) override;
  Status Fail(const std::string& id, const std::string& worker_id, const Status& error, bool retryable,
              std::chrono::milliseconds backoff) override;
  Status Release(const std::string& id, const std::string& worker_id) override;
  Result<JobRecord> Cancel(const std::string& owner, const std::string& id) override;
  Status Delete(const std::string& owner, const std::string& id) override;
  Result<std::int64_t> CountActive(const std::string& owner) override;
  Result<QueueStats> Stats() override;
  Result<std::vector<JobRecord>> ListFinishedBefore(Millis before, int limit) override;
  Status Ping() override;

 private:
  // A Submit waiting for its batch; lives on the submitting thread's stack until `outcome` is set.
  struct PendingSubmit {
    JobRecord job;
    std::optional<Result<SubmitOutcome>> outcome;  // guarded by submit_mutex_
  };
  // Jobs with an idempotency key written or found earlier in the same batch, by (owner, key).
  using KeyedJobs = std::map<std::pair<std::string, std::string>, JobRecord>;

  struct LeaseAttempt {
    std::optional<JobRecord> job;
    Millis next_ready_ms = 0;  // when nothing was leasable: the earliest time something may be (0 = unknown)
  };

  void CommitBatch(const std::vector<PendingSubmit*>& batch, std::vector<Result<SubmitOutcome>>& outcomes);
  Result<SubmitOutcome> InsertOne(const JobRecord& job, Millis now, KeyedJobs& keyed, Status& fatal);
  Result<LeaseAttempt> TryLease(const LeaseOptions& options);
  Result<Millis> NextReady();

  Result<std::unique_ptr<Connection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<Connection> conn);
  template <typename T, typename Body>
  Result<T> WithReader(Body&& body);

  // Wakes every Lease waiting in this process: something may have become leasable.
  void WakeLeasers();

  const std::string path_;
  const std::chrono::milliseconds poll_;

  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;  // guarded by writer_mutex_

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_

  std::mutex submit_mutex_;
  std::condition_variable submit_cv_;   // a batch finished
  std::deque<PendingSubmit*> pending_;  // guarded by submit_mutex_
  bool committing_ = false;             // a leader is writing a batch; guarded by submit_mutex_

  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  std::uint64_t wake_generation_ = 0;  // bumped by WakeLeasers; guarded by wake_mutex_
};

// Runs `body` on a pooled reader connection (opened on demand; at most kMaxIdleReaders are kept).
template <typename T, typename Body>
Result<T> SqliteQueue::WithReader(Body&& body) {
  Result<std::unique_ptr<Connection>> conn = AcquireReader();
  if (!conn.ok()) return conn.status();
  Result<T> out = std::forward<Body>(body)(**conn);
  ReleaseReader(std::move(*conn));
  return out;
}

Result<SubmitOutcome> SqliteQueue::Submit(JobRecord job) {
  Result<JobRecord> fresh = sqlite::NewQueuedJob(std::move(job));
  if (!fresh.ok()) return fresh.status();
  PendingSubmit pending{std::move(*fresh), std::nullopt};
  std::unique_lock lock(submit_mutex_);
  pending_.push_back(&pending);
  while (!pending.outcome) {
    if (committing_) {
      submit_cv_.wait(lock);
      continue;
    }
    // Leader: take everything queued so far (ours included unless the backlog exceeds one batch).
    committing_ = true;
    const std::size_t count = std::min(pending_.size(), kMaxSubmitBatch);
    std::vector<PendingSubmit*> batch(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(count));
    lock.unlock();
    std::vector<Result<SubmitOutcome>> outcomes;
    CommitBatch(batch, outcomes);
    const bool created = std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.ok(); });
    if (created) WakeLeasers();
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i]->outcome.emplace(std::move(outcomes[i]));
    committing_ = false;
    submit_cv_.notify_all();
  }
  return std::move(*pending.outcome);
}

// Writes `batch` in one transaction and fills `outcomes` (one per job, same order). A failure of the
// transaction itself (busy, I/O, commit) becomes every job's outcome: none of them was stored.
void SqliteQueue::CommitBatch(const std::vector<PendingSubmit*>& batch, std::vector<Result<SubmitOutcome>>& outcomes) {
  outcomes.clear();
  Status fatal;
  {
    std::lock_guard lock(writer_mutex_);
    Result<Transaction> tx = Transaction::Immediate(*writer_);
    if (tx.ok()) {
      const Millis now = NowMillis();
      KeyedJobs keyed;
      for (const PendingSubmit* p : batch) {
        outcomes.push_back(InsertOne(p->job, now, keyed, fatal));
        if (!fatal.ok()) break;
      }
      if (fatal.ok()) fatal = tx->Commit();
    } else {
      fatal = tx.status();
    }
  }
  if (fatal.ok()) return;
  outcomes.assign(batch.size(), Result<SubmitOutcome>(fatal));
}

// One job of a batch. Returns its outcome; sets `fatal` when the transaction can no longer be trusted (the
// caller then rolls back everything). A duplicate id only fails this job: SQLite undoes just that statement.
Result<SubmitOutcome> SqliteQueue::InsertOne(const JobRecord& job, Millis now, KeyedJobs& keyed, Status& fatal) {
  const auto key = std::pair{job.owner, job.idempotency_key};
  if (!job.idempotency_key.empty()) {
    std::optional<JobRecord> earlier;
    if (auto it = keyed.find(key); it != keyed.end()) {
      earlier = it->second;
    } else {
      Result<Statement> find = writer_->Prepare(sqlite::kSqlByKey);
      if (!find.ok()) return fatal = find.status();
      find->Bind(1, job.owner).Bind(2, job.idempotency_key);
      Result<std::optional<JobRecord>> found = sqlite::StepOneJob(*find);
      if (!found.ok()) return fatal = found.status();
      earlier = std::move(*found);
    }
    if (earlier) {
      keyed.emplace(key, *earlier);
      if (earlier->request_hash != job.request_hash) {
        return Status(ErrorCode::kConflict, "idempotency key '" + job.idempotency_key + "' was already used for job " +
                                                earlier->id + " with a different request");
      }
      return SubmitOutcome{std::move(*earlier), false};
    }
  }
  JobRecord stored = job;
  stored.created_ms = now;
  stored.version = 1;
  if (Status s = sqlite::InsertJob(*writer_, stored); !s.ok()) {
    if (s.code() == ErrorCode::kConflict) return Status(ErrorCode::kConflict, "job " + stored.id + " already exists");
    return fatal = s;
  }
  if (!stored.idempotency_key.empty()) keyed.emplace(key, stored);
  return SubmitOutcome{std::move(stored), true};
}

Result<JobRecord> SqliteQueue::Get(const std::string& owner, const std::string& id) {
  return WithReader<JobRecord>([&](Connection& db) -> Result<JobRecord> {
    Result<std::optional<JobRecord>> job = sqlite::SelectJob(db, owner, id);
    if (!job.ok()) return job.status();
    if (!*job) return NotFound(id);
    return std::move(**job);
  });
}

Result<JobPage> SqliteQueue::List(const ListQuery& query) {
  if (query.owner.empty()) return Status(ErrorCode::kUsage, "List needs an owner");
  // The first page starts below every real (created_ms, id) pair.
  std::pair<Millis, std::string> after{std::numeric_limits<Millis>::max(), ""};
  if (!query.cursor.empty()) {
    Result<std::pair<Millis, std::string>> decoded = sqlite::DecodeCursor(query.cursor);
    if (!decoded.ok()) return decoded.status();
    after = std::move(*decoded);
  }
  const int limit = std::clamp(query.limit, 1, kMaxPageSize);
  return WithReader<JobPage>([&](Connection& db) -> Result<JobPage> {
    Result<Statement> stmt = db.Prepare(sqlite::kSqlList);
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, query.owner).Bind(2, query.status ? JobStatusName(*query.status) : std::string_view());
    stmt->Bind(3, after.first).Bind(4, after.second).Bind(5, limit + 1);  // one extra row: is there a next page?
    Result<std::vector<JobRecord>> jobs = sqlite::StepJobs(*stmt);
    if (!jobs.ok()) return jobs.status();
    return sqlite::PageOf(std::move(*jobs), limit);
  });
}

Result<std::optional<JobRecord>> SqliteQueue::Lease(const LeaseOptions& options) {
  if (options.worker_id.empty()) return Status(ErrorCode::kUsage, "Lease needs a worker id");
  if (options.lease.count() <= 0) return Status(ErrorCode::kUsage, "Lease needs a positive lease duration");
  const auto deadline = std::chrono::steady_clock::now() + options.wait;
  for (;;) {
    // Read the generation before looking, so a Submit that commits after our look still wakes us.
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(wake_mutex_);
      seen = wake_generation_;
    }
    Result<LeaseAttempt> attempt = TryLease(options);
    if (!attempt.ok()) return attempt.status();
    if (attempt->job) return std::move(attempt->job);
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::optional<JobRecord>();
    // Other processes' submissions are only seen by polling; back-offs and lapsing leases by their own clock.
    auto until = std::min(deadline, now + poll_);
    if (attempt->next_ready_ms > 0) {
      const auto ready_in = std::chrono::milliseconds(std::max<Millis>(attempt->next_ready_ms - NowMillis(), 0));
      until = std::min(until, now + ready_in);
    }
    std::unique_lock lock(wake_mutex_);
    wake_cv_.wait_until(lock, until, [&] { return wake_generation_ != seen; });
  }
}

// One look for a job, under BEGIN IMMEDIATE so no other connection can lease the same one in between.
Result<SqliteQueue::LeaseAttempt> SqliteQueue::TryLease(const LeaseOptions& options) {
  std::lock_guard lock(writer_mutex_);
  Result<Transaction> tx = Transaction::Immediate(*writer_);
  if (!tx.ok()) return tx.status();
  const Millis now = NowMillis();
  LeaseAttempt attempt;
  for (;;) {
    Result<std::optional<sqlite::Candidate>> candidate = sqlite::FindCandidate(*writer_, now);
    if (!candidate.ok()) return candidate.status();
    if (!*candidate) break;
    const sqlite::Candidate& c = **candidate;
    // Taking over a lapsed lease starts another attempt; one that has none left (or was asked to cancel)
    // ends here instead, and the search goes on.
    if (c.lapsed && (c.cancel_requested || c.attempts >= c.max_attempts)) {
      if (Status s = sqlite::RetireLapsed(*writer_, c, now); !s.ok()) return s;
      continue;
    }
    Result<Statement> take = writer_->Prepare(sqlite::kSqlTakeLease);
    if (!take.ok()) return take.status();
    take->Bind(1, c.seq).Bind(2, options.worker_id).Bind(3, now + options.lease.count()).Bind(4, now);
    Result<std::optional<JobRecord>> job = sqlite::StepOneJob(*take);
    if (!job.ok()) return job.status();
    attempt.job = std::move(*job);
    break;
  }
  if (!attempt.job) {
    Result<Millis> next = NextReady();
    if (!next.ok()) return next.status();
    attempt.next_ready_ms = *next;
  }
  if (Status s = tx->Commit(); !s.ok()) return s;
  return attempt;
}

// The earliest moment a back-off ends or a lease lapses (0 = none pending). Caller holds writer_mutex_.
Result<Millis> SqliteQueue::NextReady() {
  Result<Statement> stmt = writer_->Prepare(sqlite::kSqlNextReady);
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  Millis next = 0;
  if (*row && !stmt->IsNull(0)) next = stmt->Int(0);
  // A lease is leasable once strictly past its expiry.
  if (*row && !stmt->IsNull(1) && (next == 0 || stmt->Int(1) + 1 < next)) next = stmt->Int(1) + 1;
  return next;
}

Status SqliteQueue::Renew(const std::string& id, const std::string& worker_id, std::chrono::milliseconds lease,
                          const Heartbeat& progress) {
  if (lease.count() <= 0) return {ErrorCode::kUsage, "Renew needs a positive lease duration"};
  std::lock_guard lock(writer_mutex_);
  const Millis now = NowMillis();
  Result<Statement> stmt = writer_->Prepare(sqlite::kSqlRenew);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id).Bind(2, worker_id).Bind(3, now + lease.count());
  stmt->Bind(4, progress.frames_done).Bind(5, progress.frames_total).Bind(6, now);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return LeaseLost(id, worker_id);
  const bool cancel_requested = stmt->Int(0) != 0;
  if (Status s = stmt->Run(); !s.ok()) return s;
  if (cancel_requested) return {ErrorCode::kCanceled, "job " + id + " was canceled by request"};
  return Status::Ok();
}

Status SqliteQueue::Complete(const std::string& id, const std::string& worker_id, const std::string& result_key) {
  std::lock_guard lock(writer_mutex_);
  const Millis now = NowMillis();
  {
    Result<Statement> stmt = writer_->Prepare(sqlite::kSqlComplete);
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, id).Bind(2, worker_id).Bind(3, result_key).Bind(4, now);
    if (Status s = stmt->Run(); !s.ok()) return s;
    if (writer_->Changes() > 0) return Status::Ok();
  }
  // A retry of a Complete that succeeded (e.g. the reply was lost) is fine; succeeded is final, so this
  // separate read cannot race with a change that would make the answer wrong.
  Result<Statement> stmt = writer_->Prepare(sqlite::kSqlCompleted);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (*row && stmt->Text(0) == JobStatusName(JobStatus::kSucceeded) && stmt->Text(1) == worker_id &&
      stmt->Text(2) == result_key) {
    return Status::Ok();
  }
  return LeaseLost(id, worker_id);
}

Status SqliteQueue::Fail(const std::string& id, const std::string& worker_id, const Status& error, bool retryable,
                         std::chrono::milliseconds backoff) {
  const ErrorCode code = error.ok() ? ErrorCode::kInternal : error.code();
  const std::string message = error.ok() ? "the worker reported a failure without an error" : error.message();
  bool requeued = false;
  {
    std::lock_guard lock(writer_mutex_);
    Result<Transaction> tx = Transaction::Immediate(*writer_);
    if (!tx.ok()) return tx.status();
    Result<std::optional<sqlite::Held>> held = sqlite::LoadHeld(*writer_, id, worker_id);
    if (!held.ok()) return held.status();
    if (!*held) return LeaseLost(id, worker_id);
    const sqlite::Held& h = **held;
    const Millis now = NowMillis();
    Status s;
    if (code == ErrorCode::kCanceled && h.cancel_requested) {
      s = sqlite::FinishJob(*writer_, id, JobStatus::kCanceled, error_info(code).name, message, false, now);
    } else if (retryable && h.attempts < h.max_attempts) {
      s = sqlite::RequeueJob(*writer_, id, now + std::max<Millis>(backoff.count(), 0), h.attempts, now);
      requeued = true;
    } else {
      s = sqlite::FinishJob(*writer_, id, JobStatus::kFailed, error_info(code).name, message, true, now);
    }
    if (s.ok()) s = tx->Commit();
    if (!s.ok()) return s;
  }
  if (requeued) WakeLeasers();
  return Status::Ok();
}

Status SqliteQueue::Release(const std::string& id, const std::string& worker_id) {
  {
    std::lock_guard lock(writer_mutex_);
    Result<Transaction> tx = Transaction::Immediate(*writer_);
    if (!tx.ok()) return tx.status();
    Result<std::optional<sqlite::Held>> held = sqlite::LoadHeld(*writer_, id, worker_id);
    if (!held.ok()) return held.status();
    if (!*held) return LeaseLost(id, worker_id);
    const Millis now = NowMillis();
    // A job handed back after a cancel request has nobody left to cancel it: it ends canceled.
    Status s = (*held)->cancel_requested
                   ? sqlite::FinishJob(*writer_, id, JobStatus::kCanceled, error_info(ErrorCode::kCanceled).name,
                                       "canceled by request", false, now)
                   : sqlite::RequeueJob(*writer_, id, 0, std::max<std::int64_t>((*held)->attempts - 1, 0), now);
    if (s.ok()) s = tx->Commit();
    if (!s.ok()) return s;
  }
  WakeLeasers();
  return Status::Ok();
}

Result<JobRecord> SqliteQueue::Cancel(const std::string& owner, const std::string& id) {
  std::lock_guard lock(writer_mutex_);
  Result<Transaction> tx = Transaction::Immediate(*writer_);
  if (!tx.ok()) return tx.status();
  Result<std::optional<JobRecord>> job = sqlite::SelectJob(*writer_, owner, id);
  if (!job.ok()) return job.status();
  if (!*job) return NotFound(id);
  const Millis now = NowMillis();
  const JobStatus status = (*job)->status;
  if (IsFinished(status)) {
    return Status(ErrorCode::kConflict, "job " + id + " already " + std::string(JobStatusName(status)));
  }
  Status s;
  if (status == JobStatus::kQueued) {
    s = sqlite::FinishJob(*writer_, id, JobStatus::kCanceled, error_info(ErrorCode::kCanceled).name,
                          "canceled by request", false, now);
  } else {
    // Running: only the holder can stop the work; it learns of the request from its next Renew.
    Result<Statement> stmt = writer_->Prepare(sqlite::kSqlRequestCancel);
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, id).Bind(2, now);
    s = stmt->Run();
  }
  if (!s.ok()) return s;
  job = sqlite::SelectJob(*writer_, owner, id);
  if (!job.ok()) return job.status();
  if (!*job) return NotFound(id);
  if (Status c = tx->Commit(); !c.ok()) return c;
  return std::move(**job);
}

Status SqliteQueue::Delete(const std::string& owner, const std::string& id) {
  std::lock_guard lock(writer_mutex_);
  Result<Statement> stmt = writer_->Prepare(sqlite::kSqlDelete);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id).Bind(2, owner);
  if (Status s = stmt->Run(); !s.ok()) return s;
  return writer_->Changes() > 0 ? Status::Ok() : NotFound(id);
}

Result<std::int64_t> SqliteQueue::CountActive(const std::string& owner) {
  return WithReader<std::int64_t>([&](Connection& db) -> Result<std::int64_t> {
    Result<Statement> stmt = db.Prepare(sqlite::kSqlCountActive);
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, owner);
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    return *row ? stmt->Int(0) : 0;
  });
}

Result<QueueStats> SqliteQueue::Stats() {
  // One statement, so all counts come from the same snapshot.
  return WithReader<QueueStats>([&](Connection& db) -> Result<QueueStats> {
    Result<Statement> stmt = db.Prepare(sqlite::kSqlStats);
    if (!stmt.ok()) return stmt.status();
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status(ErrorCode::kInternal, "job queue " + path_ + ": stats returned no row");
    return QueueStats{.queued = stmt->Int(0),
                      .running = stmt->Int(1),
                      .succeeded = stmt->Int(2),
                      .failed = stmt->Int(3),
                      .canceled = stmt->Int(4),
                      .dead_letters = stmt->Int(5)};
  });
}

Result<std::vector<JobRecord>> SqliteQueue::ListFinishedBefore(Millis before, int limit) {
  if (limit <= 0) return std::vector<JobRecord>();
  return WithReader<std::vector<JobRecord>>([&](Connection& db) -> Result<std::vector<JobRecord>> {
    Result<Statement> stmt = db.Prepare(sqlite::kSqlFinishedBefore);
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, before).Bind(2, limit);
    return sqlite::StepJobs(*stmt);
  });
}

Status SqliteQueue::Ping() {
  // Reads the schema from the file, so a deleted or unreadable database fails here rather than at the next job.
  return WithReader<bool>([&](Connection& db) -> Result<bool> {
           Result<Statement> stmt = db.Prepare("SELECT count(*) FROM jobs WHERE seq < 0");
           if (!stmt.ok()) return stmt.status();
           Result<bool> row = stmt->Step();
           if (!row.ok()) return row.status();
           return true;
         })
      .status();
}

Result<std::unique_ptr<Connection>> SqliteQueue::AcquireReader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  return Connection::Open(path_, /*create=*/false, /*query_only=*/true);
}

void SqliteQueue::ReleaseReader(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(conn));
}

void SqliteQueue::WakeLeasers() {
  {
    std::lock_guard lock(wake_mutex_);
    ++wake_generation_;
  }
  wake_cv_.notify_all();
}

}  // namespace

Result<std::unique_ptr<JobQueue>> OpenSqliteQueue(const SqliteQueueOptions& options) {
  if (options.path.empty() || options.path == ":memory:") {
    return Status(ErrorCode::kUsage, "the job queue needs a database file, got '" + options.path +
                                         "' (an in-memory database would lose every job on exit)");
  }
  // Failures here are about the file: missing directory, no permission, not a database, no WAL support.
  const auto open_failed = [&](const Status& cause) {
    if (cause.code() == ErrorCode::kUsage || cause.code() == ErrorCode::kOutputFailed) return cause;
    return Status(ErrorCode::kOutputFailed,
                  "cannot open the job queue database (does its directory exist, and is "
                  "it writable?): " +
                      cause.message());
  };
  Result<std::unique_ptr<Connection>> writer = Connection::Open(options.path, /*create=*/true, /*query_only=*/false);
  if (!writer.ok()) return open_failed(writer.status());
  if (Status s = sqlite::Initialize(**writer); !s.ok()) return open_failed(s);
  return std::unique_ptr<JobQueue>(std::make_unique<SqliteQueue>(std::move(*writer), options));
}

}  // namespace facefleet::jobs
