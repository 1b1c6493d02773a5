// The SQLite job queue's schema and SQL, and the helpers that turn rows into JobRecords and run the
// single-statement job changes. The queue (sqlite_queue.cpp) adds transactions, batching and wake-ups on top.
//
// Thread safety: as for sqlite_db.hpp — every function uses only the connection it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jobs/job_queue.hpp"
#include "jobs/sqlite_db.hpp"

namespace facefleet::jobs::sqlite {

inline constexpr int kSchemaVersion = 1;

// Switches the database to WAL and creates (or checks) the schema. kUsage when the file was written by a newer
// schema version; kOutputFailed when WAL is unavailable.
Status Initialize(Connection& db);

// Version 1. `seq` (the rowid) is the submission order: FIFO leasing and the tie-break between equal
// created_ms. source_keys is '\n'-joined (storage keys are one line; Submit checks).
inline constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  options_json TEXT NOT NULL,
  source_keys TEXT NOT NULL,
  target_key TEXT NOT NULL,
  output_ext TEXT NOT NULL,
  is_video INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  webhook_url TEXT NOT NULL,
  webhook_events TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  frames_done INTEGER NOT NULL DEFAULT 0,
  frames_total INTEGER NOT NULL DEFAULT 0,
  result_key TEXT NOT NULL DEFAULT '',
  error_code TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  worker_id TEXT NOT NULL DEFAULT '',
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  not_before_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  dead_letter INTEGER NOT NULL DEFAULT 0
);
-- Lease: walks one status in submission order and filters on not_before_ms inside the index, so the oldest
-- ready job is found without sorting the backlog (not_before_ms as the second column would force a sort).
CREATE INDEX jobs_lease ON jobs (status, seq, not_before_ms);
CREATE INDEX jobs_owner ON jobs (owner, created_ms DESC, id DESC);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner, idempotency_key) WHERE idempotency_key != '';
CREATE INDEX jobs_finished ON jobs (finished_ms) WHERE finished_ms > 0;
CREATE INDEX jobs_active ON jobs (owner) WHERE status IN ('queued', 'running');
)sql";

// Every query returning whole jobs selects these columns; ReadJob decodes them in this order.
#define FF_JOB_COLUMNS                                                                                          \
  "id, owner, options_json, source_keys, target_key, output_ext, is_video, max_attempts, idempotency_key, "     \
  "request_hash, webhook_url, webhook_events, status, cancel_requested, attempts, frames_done, frames_total, "  \
  "result_key, error_code, error_message, worker_id, lease_expires_ms, not_before_ms, created_ms, started_ms, " \
  "finished_ms, version"

inline constexpr const char* kSqlInsert =
    "INSERT INTO jobs (id, owner, options_json, source_keys, target_key, output_ext, is_video, max_attempts, "
    "idempotency_key, request_hash, webhook_url, webhook_events, status, created_ms, updated_ms, version) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'queued', ?13, ?13, 1)";
inline constexpr const char* kSqlGet = "SELECT " FF_JOB_COLUMNS " FROM jobs WHERE id = ?1 AND (?2 = '' OR owner = ?2)";
inline constexpr const char* kSqlByKey =
    "SELECT " FF_JOB_COLUMNS " FROM jobs WHERE owner = ?1 AND idempotency_key = ?2 AND idempotency_key != ''";
inline constexpr const char* kSqlReady =
    "SELECT seq FROM jobs WHERE status = 'queued' AND not_before_ms <= ?1 ORDER BY seq LIMIT 1";
inline constexpr const char* kSqlLapsed =
    "SELECT seq, id, attempts, max_attempts, cancel_requested, worker_id FROM jobs "
    "WHERE status = 'running' AND lease_expires_ms < ?1 ORDER BY seq LIMIT 1";
inline constexpr const char* kSqlNextReady =
    "SELECT (SELECT min(not_before_ms) FROM jobs WHERE status = 'queued'), "
    "(SELECT min(lease_expires_ms) FROM jobs WHERE status = 'running')";
inline constexpr const char* kSqlTakeLease =
    "UPDATE jobs SET status = 'running', worker_id = ?2, lease_expires_ms = ?3, attempts = attempts + 1, "
    "started_ms = ?4, frames_done = 0, frames_total = 0, version = version + 1, updated_ms = ?4 "
    "WHERE seq = ?1 RETURNING " FF_JOB_COLUMNS;
inline constexpr const char* kSqlHeld =
    "SELECT attempts, max_attempts, cancel_requested FROM jobs "
    "WHERE id = ?1 AND status = 'running' AND worker_id = ?2";
inline constexpr const char* kSqlRenew =
    "UPDATE jobs SET lease_expires_ms = ?3, frames_done = ?4, frames_total = ?5, version = version + 1, "
    "updated_ms = ?6 WHERE id = ?1 AND status = 'running' AND worker_id = ?2 RETURNING cancel_requested";
inline constexpr const char* kSqlComplete =
    "UPDATE jobs SET status = 'succeeded', result_key = ?3, finished_ms = ?4, lease_expires_ms = 0, "
    "version = version + 1, updated_ms = ?4 WHERE id = ?1 AND status = 'running' AND worker_id = ?2";
inline constexpr const char* kSqlCompleted = "SELECT status, worker_id, result_key FROM jobs WHERE id = ?1";
inline constexpr const char* kSqlRequeue =
    "UPDATE jobs SET status = 'queued', worker_id = '', lease_expires_ms = 0, not_before_ms = ?2, attempts = ?3, "
    "error_code = '', error_message = '', version = version + 1, updated_ms = ?4 WHERE id = ?1";
// Finished jobs keep worker_id: it names the last holder, which lets Complete be idempotent for that worker.
inline constexpr const char* kSqlFinish =
    "UPDATE jobs SET status = ?2, error_code = ?3, error_message = ?4, dead_letter = ?5, finished_ms = ?6, "
    "lease_expires_ms = 0, version = version + 1, updated_ms = ?6 WHERE id = ?1";
inline constexpr const char* kSqlRequestCancel =
    "UPDATE jobs SET cancel_requested = 1, version = version + 1, updated_ms = ?2 "
    "WHERE id = ?1 AND cancel_requested = 0";
inline constexpr const char* kSqlDelete = "DELETE FROM jobs WHERE id = ?1 AND (?2 = '' OR owner = ?2)";
inline constexpr const char* kSqlList = "SELECT " FF_JOB_COLUMNS
                                        " FROM jobs WHERE owner = ?1 AND (?2 = '' OR status = ?2) "
                                        "AND (created_ms, id) < (?3, ?4) ORDER BY created_ms DESC, id DESC LIMIT ?5";
inline constexpr const char* kSqlCountActive =
    "SELECT count(*) FROM jobs WHERE owner = ?1 AND status IN ('queued', 'running')";
inline constexpr const char* kSqlStats =
    "SELECT (SELECT count(*) FROM jobs WHERE status = 'queued'), (SELECT count(*) FROM jobs WHERE status = "
    "'running'), (SELECT count(*) FROM jobs WHERE status = 'succeeded'), (SELECT count(*) FROM jobs WHERE status "
    "= 'failed'), (SELECT count(*) FROM jobs WHERE status = 'canceled'), (SELECT count(*) FROM jobs WHERE status "
    "= 'failed' AND dead_letter = 1)";
inline constexpr const char* kSqlFinishedBefore =
    "SELECT " FF_JOB_COLUMNS " FROM jobs WHERE finished_ms > 0 AND finished_ms < ?1 ORDER BY finished_ms LIMIT ?2";
#undef FF_JOB_COLUMNS

// Decodes a row selected with FF_JOB_COLUMNS (kSqlGet and friends).
Result<JobRecord> ReadJob(const Statement& row);
// Steps `stmt` for at most one job row, then to completion (a RETURNING statement finishes its change there).
Result<std::optional<JobRecord>> StepOneJob(Statement& stmt);
// Every job row of `stmt`.
Result<std::vector<JobRecord>> StepJobs(Statement& stmt);
// Runs kSqlInsert for `job` (a NewQueuedJob with created_ms set).
Status InsertJob(Connection& db, const JobRecord& job);

// The List cursor: opaque to clients, "after this (created_ms, id)" to the queue.
std::string EncodeCursor(const JobRecord& last);
// A List page from up to limit + 1 rows (newest first): the extra row only says there is a next page.
JobPage PageOf(std::vector<JobRecord> rows, int limit);
Result<std::pair<Millis, std::string>> DecodeCursor(std::string_view cursor);  // kInvalidRequest when malformed

// Checks the submitter's fields and returns a record whose queue-maintained fields are all at their defaults.
Result<JobRecord> NewQueuedJob(JobRecord in);

// The oldest leasable job: queued and out of back-off, or running under a lapsed lease.
struct Candidate {
  std::int64_t seq = 0;
  bool lapsed = false;  // running with an expired lease: the fields below are set
  std::string id;
  std::int64_t attempts = 0;
  std::int64_t max_attempts = 0;
  bool cancel_requested = false;
  std::string worker_id;
};
Result<std::optional<Candidate>> FindCandidate(Connection& db, Millis now);

// Ends a job: status plus the error fields shown to clients.
Status FinishJob(Connection& db, const std::string& id, JobStatus status, std::string_view error_code,
                 std::string_view error_message, bool dead_letter, Millis now);
// Back to queued, leasable from `not_before`, with the attempt counter set to `attempts`.
Status RequeueJob(Connection& db, const std::string& id, Millis not_before, std::int64_t attempts, Millis now);
// Ends a lapsed lease that must not be handed out again: its holder was asked to cancel, or it used the last
// attempt (failed, counted as a dead letter).
Status RetireLapsed(Connection& db, const Candidate& c, Millis now);

// The attempt counters of a job that `worker_id` holds, or nullopt when it does not hold it.
struct Held {
  std::int64_t attempts = 0;
  std::int64_t max_attempts = 0;
  bool cancel_requested = false;
};
Result<std::optional<Held>> LoadHeld(Connection& db, const std::string& id, const std::string& worker_id);

// The job if `owner` ("" = any) submitted it.
Result<std::optional<JobRecord>> SelectJob(Connection& db, const std::string& owner, const std::string& id);

}  // namespace facefleet::jobs::sqlite
