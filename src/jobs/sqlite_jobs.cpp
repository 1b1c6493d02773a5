#include "jobs/sqlite_jobs.hpp"

#include <charconv>

#include "core/hex.hpp"

namespace facefleet::jobs::sqlite {
namespace {

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& key : keys) {
    if (!out.empty()) out += '\n';
    out += key;
  }
  return out;
}

std::vector<std::string> SplitKeys(std::string_view joined) {
  std::vector<std::string> keys;
  while (!joined.empty()) {
    const std::size_t end = joined.find('\n');
    keys.emplace_back(joined.substr(0, end));
    joined = end == std::string_view::npos ? std::string_view() : joined.substr(end + 1);
  }
  return keys;
}

}  // namespace

Result<JobRecord> ReadJob(const Statement& row) {
  JobRecord job;
  job.id = row.Text(0);
  job.owner = row.Text(1);
  job.options_json = row.Text(2);
  job.source_keys = SplitKeys(row.Text(3));
  job.target_key = row.Text(4);
  job.output_ext = row.Text(5);
  job.is_video = row.Int(6) != 0;
  job.max_attempts = static_cast<std::int32_t>(row.Int(7));
  job.idempotency_key = row.Text(8);
  job.request_hash = row.Text(9);
  job.webhook_url = row.Text(10);
  job.webhook_events = row.Text(11);
  Result<JobStatus> status = ParseJobStatus(row.Text(12));
  if (!status.ok()) return Status(ErrorCode::kInternal, "job " + job.id + ": " + status.status().message());
  job.status = *status;
  job.cancel_requested = row.Int(13) != 0;
  job.attempts = static_cast<std::int32_t>(row.Int(14));
  job.frames_done = row.Int(15);
  job.frames_total = row.Int(16);
  job.result_key = row.Text(17);
  job.error_code = row.Text(18);
  job.error_message = row.Text(19);
  job.worker_id = row.Text(20);
  job.lease_expires_ms = row.Int(21);
  job.not_before_ms = row.Int(22);
  job.created_ms = row.Int(23);
  job.started_ms = row.Int(24);
  job.finished_ms = row.Int(25);
  job.version = row.Int(26);
  return job;
}

// Steps `stmt` for at most one job row, then to completion (a RETURNING statement finishes its change there).
Result<std::optional<JobRecord>> StepOneJob(Statement& stmt) {
  Result<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<JobRecord>();
  Result<JobRecord> job = ReadJob(stmt);
  if (!job.ok()) return job.status();
  if (Status s = stmt.Run(); !s.ok()) return s;
  return std::optional<JobRecord>(std::move(*job));
}

Status InsertJob(Connection& db, const JobRecord& job) {
  Result<Statement> insert = db.Prepare(kSqlInsert);
  if (!insert.ok()) return insert.status();
  insert->Bind(1, job.id).Bind(2, job.owner).Bind(3, job.options_json).Bind(4, JoinKeys(job.source_keys));
  insert->Bind(5, job.target_key).Bind(6, job.output_ext).Bind(7, job.is_video ? 1 : 0);
  insert->Bind(8, job.max_attempts).Bind(9, job.idempotency_key).Bind(10, job.request_hash);
  insert->Bind(11, job.webhook_url).Bind(12, job.webhook_events).Bind(13, job.created_ms);
  return insert->Run();
}

Result<std::vector<JobRecord>> StepJobs(Statement& stmt) {
  std::vector<JobRecord> jobs;
  for (;;) {
    Result<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return jobs;
    Result<JobRecord> job = ReadJob(stmt);
    if (!job.ok()) return job.status();
    jobs.push_back(std::move(*job));
  }
}

// The List cursor: hex of "<created_ms>:<id>" of the last job on the page (opaque to clients; hex keeps it
// URL-safe without escaping).
JobPage PageOf(std::vector<JobRecord> rows, int limit) {
  JobPage page;
  page.jobs = std::move(rows);
  if (page.jobs.size() > static_cast<std::size_t>(limit)) {
    page.jobs.resize(static_cast<std::size_t>(limit));
    page.next_cursor = EncodeCursor(page.jobs.back());
  }
  return page;
}

std::string EncodeCursor(const JobRecord& last) {
  return core::HexLower(std::to_string(last.created_ms) + ":" + last.id);
}

Result<std::pair<Millis, std::string>> DecodeCursor(std::string_view cursor) {
  const Status invalid(ErrorCode::kInvalidRequest, "invalid page cursor '" + std::string(cursor.substr(0, 64)) +
                                                       "' (pass next_cursor from the previous page unchanged)");
  if (cursor.size() % 2 != 0 || cursor.size() > 512) return invalid;
  std::string plain;
  for (std::size_t i = 0; i < cursor.size(); i += 2) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(cursor.data() + i, cursor.data() + i + 2, value, 16);
    if (ec != std::errc() || end != cursor.data() + i + 2) return invalid;
    plain += static_cast<char>(value);
  }
  const std::size_t colon = plain.find(':');
  if (colon == std::string::npos || colon + 1 == plain.size()) return invalid;
  Millis created = 0;
  const auto [end, ec] = std::from_chars(plain.data(), plain.data() + colon, created);
  if (ec != std::errc() || end != plain.data() + colon) return invalid;
  return std::pair{created, plain.substr(colon + 1)};
}

// Checks the submitter's fields and returns a record whose queue-maintained fields are all at their defaults.
Result<JobRecord> NewQueuedJob(JobRecord in) {
  if (in.owner.empty()) return Status(ErrorCode::kUsage, "job owner is required");
  if (in.max_attempts < 1) {
    return Status(ErrorCode::kUsage, "job max_attempts must be at least 1, got " + std::to_string(in.max_attempts));
  }
  for (const std::string& key : in.source_keys) {
    if (key.empty() || key.find('\n') != std::string::npos) {
      return Status(ErrorCode::kUsage, "job source keys must be non-empty single lines");
    }
  }
  JobRecord job;
  job.id = in.id.empty() ? NewJobId() : std::move(in.id);
  job.owner = std::move(in.owner);
  job.options_json = std::move(in.options_json);
  job.source_keys = std::move(in.source_keys);
  job.target_key = std::move(in.target_key);
  job.output_ext = std::move(in.output_ext);
  job.is_video = in.is_video;
  job.max_attempts = in.max_attempts;
  job.idempotency_key = std::move(in.idempotency_key);
  job.request_hash = std::move(in.request_hash);
  job.webhook_url = std::move(in.webhook_url);
  job.webhook_events = std::move(in.webhook_events);
  return job;
}

Result<std::optional<Candidate>> FindCandidate(Connection& db, Millis now) {
  std::optional<Candidate> best;
  {
    Result<Statement> ready = db.Prepare(kSqlReady);
    if (!ready.ok()) return ready.status();
    ready->Bind(1, now);
    Result<bool> row = ready->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      best.emplace();
      best->seq = ready->Int(0);
    }
  }
  Result<Statement> lapsed = db.Prepare(kSqlLapsed);
  if (!lapsed.ok()) return lapsed.status();
  lapsed->Bind(1, now);
  Result<bool> row = lapsed->Step();
  if (!row.ok()) return row.status();
  if (*row && (!best || lapsed->Int(0) < best->seq)) {
    best.emplace();
    best->seq = lapsed->Int(0);
    best->lapsed = true;
    best->id = lapsed->Text(1);
    best->attempts = lapsed->Int(2);
    best->max_attempts = lapsed->Int(3);
    best->cancel_requested = lapsed->Int(4) != 0;
    best->worker_id = lapsed->Text(5);
  }
  return best;
}

// Ends a job: status plus the error fields shown to clients.
Status FinishJob(Connection& db, const std::string& id, JobStatus status, std::string_view error_code,
                 std::string_view error_message, bool dead_letter, Millis now) {
  Result<Statement> stmt = db.Prepare(kSqlFinish);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id).Bind(2, JobStatusName(status)).Bind(3, error_code).Bind(4, error_message);
  stmt->Bind(5, dead_letter ? 1 : 0).Bind(6, now);
  return stmt->Run();
}

Status RequeueJob(Connection& db, const std::string& id, Millis not_before, std::int64_t attempts, Millis now) {
  Result<Statement> stmt = db.Prepare(kSqlRequeue);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id).Bind(2, not_before).Bind(3, attempts).Bind(4, now);
  return stmt->Run();
}

// A lapsed lease that must not be handed out again: the holder was asked to cancel, or it used the last attempt.
Status RetireLapsed(Connection& db, const Candidate& c, Millis now) {
  if (c.cancel_requested) {
    return FinishJob(db, c.id, JobStatus::kCanceled, error_info(ErrorCode::kCanceled).name,
                     "canceled by request (worker '" + c.worker_id + "' stopped renewing its lease)", false, now);
  }
  const std::string message = "worker lost on attempt " + std::to_string(c.attempts) + " of " +
                              std::to_string(c.max_attempts) + " (worker '" + c.worker_id +
                              "' stopped renewing its lease); no attempts left";
  return FinishJob(db, c.id, JobStatus::kFailed, error_info(ErrorCode::kInternal).name, message, true, now);
}

Result<std::optional<Held>> LoadHeld(Connection& db, const std::string& id, const std::string& worker_id) {
  Result<Statement> stmt = db.Prepare(kSqlHeld);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id).Bind(2, worker_id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<Held>();
  return std::optional<Held>(Held{stmt->Int(0), stmt->Int(1), stmt->Int(2) != 0});
}

Result<std::optional<JobRecord>> SelectJob(Connection& db, const std::string& owner, const std::string& id) {
  Result<Statement> stmt = db.Prepare(kSqlGet);
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id).Bind(2, owner);
  return StepOneJob(*stmt);
}

// WAL (readers beside the writer, one fsync per commit) and the schema, created or checked under the write lock
// so that processes opening a new file at once create it once.
Status Initialize(Connection& db) {
  {
    Result<Statement> mode = db.Prepare("PRAGMA journal_mode=WAL");
    if (!mode.ok()) return mode.status();
    Result<bool> row = mode->Step();
    if (!row.ok()) return row.status();
    if (!*row || mode->Text(0) != "wal") {
      return {ErrorCode::kOutputFailed, "job queue " + db.path() +
                                            ": cannot switch to WAL mode (the file system must support shared "
                                            "memory and locking; network file systems usually do not)"};
    }
  }
  Result<Transaction> tx = Transaction::Immediate(db);
  if (!tx.ok()) return tx.status();
  std::int64_t version = 0;
  {
    Result<Statement> stmt = db.Prepare("PRAGMA user_version");
    if (!stmt.ok()) return stmt.status();
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (*row) version = stmt->Int(0);
  }
  if (version > kSchemaVersion) {
    return {ErrorCode::kUsage, "job queue " + db.path() + " has schema version " + std::to_string(version) +
                                   ", newer than this build understands (" + std::to_string(kSchemaVersion) +
                                   "); run a newer facefleet"};
  }
  if (version < 1) {
    if (Status s = db.Exec(kSchemaV1, "create schema"); !s.ok()) return s;
    if (Status s = db.Exec("PRAGMA user_version = 1"); !s.ok()) return s;
  }
  return tx->Commit();
}

}  // namespace facefleet::jobs::sqlite
