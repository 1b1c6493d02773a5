// Redis Streams backend of JobQueue.
//
// Keys (prefix P, default "facefleet:"):
//   P job:<id>            hash: every JobRecord field + updated_ms, dead_letter, entry (redis_queue_record.cpp)
//   P jobs                stream of {id} entries, consumer group "workers": the dispatch queue
//   P dead                dead-letter stream {id, owner, error_code, error_message, attempts, finished_ms}
//   P owner:<owner>       zset id -> created_ms: List, newest first (cursor = (created_ms, id) as in SQLite)
//   P active:<owner>      set of the owner's queued and running jobs: CountActive is one SCARD
//   P idem:<n>:<owner>:<key>  -> job id (n = owner length, so owner/key pairs cannot collide)
//   P finished            zset id -> finished_ms: ListFinishedBefore (retention sweeper)
//   P leases              zset id -> lease_expires_ms of running jobs: finds lapsed leases
//   P delayed             zset id -> not_before_ms: retries in back-off, outside the stream until due
//   P stats               hash of counters per status + dead_letters: Stats is one HMGET
// Every change is one Lua script (redis_queue_scripts.cpp), so hash, indexes, stream and counters change together
// and two workers can never both take or both finish a job.
//
// Dispatch. Submit adds a stream entry. Lease runs one script that (1) takes over the running job whose lease
// lapsed longest ago (XCLAIM moves its pending entry to the new worker), or retires it when it has no attempts
// left (failed + dead-letter stream) or a cancel was requested; (2) moves retries whose back-off ended from
// P delayed into the stream; (3) reads new entries with XREADGROUP and marks the first one whose job is still
// queued as running (entries of canceled, deleted or superseded jobs are acknowledged and skipped). With nothing
// to hand out, Lease blocks on XREAD BLOCK from the newest entry it examined (any append wakes it), bounded by
// the caller's wait and by the next back-off end or lease expiry the script reported.
//   Lease expiry is decided by lease_expires_ms (server clock) in P leases, not by XAUTOCLAIM's min-idle-time:
// LeaseOptions::lease is chosen per call, so one min-idle-time cannot serve a worker holding 100 ms leases and
// another holding 30 s ones. Renew still resets the entry's idle time (XCLAIM JUSTID), so XPENDING and any
// XAUTOCLAIM-based tooling see a heartbeating job as fresh. The attempt counter in the hash, not the PEL delivery
// count, decides dead-lettering, because Release gives an attempt back.
//   Retries and released jobs get a new entry at the end of the stream (the old one is acknowledged). Finished
// entries are acknowledged and the stream is trimmed (XTRIM MINID) up to the oldest entry still pending or
// undelivered; entries are never XDEL'd, because deletions ahead of the group's position would make XINFO
// GROUPS' lag unknown and KEDA's lagCount scaler reads that lag. An entry of a job canceled before delivery stays
// (and counts in lag) until a worker skips it. A consumer (= worker id) exists only while it holds pending
// entries, so the group does not collect every worker id that ever polled. If the stream or group disappears
// (FLUSHALL, a restart without persistence), the next script that needs it recreates it.
//
// Durability. Submit returns after Redis applied the script; the job survives a crash of the facefleet process at
// once, and a Redis restart as far as Redis persists it. Each script reaches the AOF as one MULTI/EXEC, so a
// restart never sees half a change. With appendonly yes + appendfsync everysec (our test configuration) a clean
// shutdown loses nothing, but a crash of Redis or its machine can lose the last ~1 s of acknowledged jobs (up to
// 2 s: Redis postpones AOF writes while a slow fsync runs, and still replies). appendfsync always closes that gap
// at a throughput cost. Replication is asynchronous: a failover can lose acknowledged writes too. Open warns when
// the server has no AOF or may evict keys.
//
// Retention. Finished hashes get a TTL (finished_ttl, default 25 h = a 24 h sweeper retention + 1 h) as a safety
// net; the sweeper (ListFinishedBefore + Delete) normally removes them first, keeping indexes and counters exact.
// A hash that expires instead drops out of List and ListFinishedBefore lazily, but stays counted in Stats.
//
// Connections: the shared client, redis/client.hpp (pool, reconnect back-off, timeouts; redis/connection.cpp).
#include <algorithm>
#include <charconv>
#include <thread>
#include <utility>

#include "core/log.hpp"
#include "jobs/redis_queue_internal.hpp"
#include "jobs/sqlite_jobs.hpp"

namespace facefleet::jobs {
namespace {

using redis::Args;
using redis::Reply;
using redis::Script;
using std::chrono::milliseconds;

constexpr int kMaxPageSize = 100;
// Entries one Lease script may examine (lapsed leases retired, stale entries skipped) before it returns, so a
// backlog of canceled jobs cannot stall the server; the client then simply calls it again.
constexpr int kLeaseBudget = 64;
// Longest single XREAD BLOCK: a safety net that re-runs the Lease script even if a wake-up were missed.
constexpr milliseconds kMaxBlock{2'000};
// How late Redis may time out a blocked command: one serverCron period at the default hz (10).
constexpr milliseconds kTimerSlack{100};

std::string_view At(const redisReply& reply, std::size_t i) {
  return reply.type == REDIS_REPLY_ARRAY && i < reply.elements ? redis::Text(*reply.element[i]) : std::string_view();
}

std::int64_t ToInt(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

Status Unexpected(std::string_view what) {
  return {ErrorCode::kInternal,
          "redis " + std::string(what) + ": unexpected reply (is another program using the queue's keys?)"};
}

Status NotFound(const std::string& id) { return {ErrorCode::kNotFound, "job " + id + " not found"}; }

Status LeaseLost(const std::string& id, const std::string& worker_id) {
  return {ErrorCode::kNotFound, "job " + id + " is not leased by worker '" + worker_id +
                                    "' (its lease expired and was taken over, or the job finished or was deleted)"};
}

// A script reply that is {'ok'} or {'lost'}.
Status HeldOutcome(const Result<Reply>& reply, const std::string& id, const std::string& worker_id,
                   std::string_view what) {
  if (!reply.ok()) return reply.status();
  const std::string_view tag = At(**reply, 0);
  if (tag == "ok") return Status::Ok();
  if (tag == "lost") return LeaseLost(id, worker_id);
  return Unexpected(what);
}

// Creates the jobs stream and its consumer group unless they exist. Position 0: entries added before the group
// (by an older deployment, or by a Submit after the keys were lost) are still delivered.
Status CreateGroup(redis::Pool& pool, const std::string& prefix) {
  Result<Reply> reply = pool.Run({"XGROUP", "CREATE", prefix + "jobs", "workers", "0", "MKSTREAM"});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ERROR && redis::Text(**reply).substr(0, 9) != "BUSYGROUP") {
    return redis::ErrorReply(**reply, "XGROUP CREATE");
  }
  return Status::Ok();
}

class RedisQueue final : public JobQueue, public RedisQueueIntrospection {
 public:
  RedisQueue(const RedisQueueOptions& options, std::unique_ptr<redis::Pool> pool,
             std::unique_ptr<redis::Scripts> scripts)
      : prefix_(options.prefix),
        ttl_ms_(std::to_string(std::max<milliseconds::rep>(options.finished_ttl.count(), 0))),
        dead_max_(std::to_string(std::max<std::int64_t>(options.dead_letter_max_len, 1))),
        pool_(std::move(pool)),
        scripts_(std::move(scripts)) {}

  Result<SubmitOutcome> Submit(JobRecord job) override;
  Result<JobRecord> Get(const std::string& owner, const std::string& id) override;
  Result<JobPage> List(const ListQuery& query) override;
  Result<std::optional<JobRecord>> Lease(const LeaseOptions& options) override;
  Status Renew(const std::string& id, const std::string& worker_id, milliseconds lease,
               const Heartbeat& progress) override;
  Status Complete(const std::string& id, const std::string& worker_id, const std::string& result_key) override;
  Status Fail(const std::string& id, const std::string& worker_id, const Status& error, bool retryable,
              milliseconds backoff) override;
  Status Release(const std::string& id, const std::string& worker_id) override;
  Result<JobRecord> Cancel(const std::string& owner, const std::string& id) override;
  Status Delete(const std::string& owner, const std::string& id) override;
  Result<std::int64_t> CountActive(const std::string& owner) override;
  Result<QueueStats> Stats() override;
  Result<std::vector<JobRecord>> ListFinishedBefore(Millis before, int limit) override;
  Status Ping() override;
  Result<RedisStreamInfo> GroupInfo() override;

 private:
  // Runs `script` with the common arguments (prefix, TTL, dead-letter cap) followed by `args`.
  Result<Reply> Eval(Script script, Args args);
  // Runs a plain command; error replies become a Status.
  Result<Reply> Command(const Args& args, std::string_view what);
  // Decodes an array of job hashes (List, ListFinishedBefore).
  static Result<std::vector<JobRecord>> DecodeJobs(const redisReply& reply);

  const std::string prefix_;
  const std::string ttl_ms_;
  const std::string dead_max_;
  std::unique_ptr<redis::Pool> pool_;
  std::unique_ptr<redis::Scripts> scripts_;
};

Result<Reply> RedisQueue::Eval(Script script, Args args) {
  args.insert(args.begin(), {prefix_, ttl_ms_, dead_max_});
  Result<Reply> reply = scripts_->Run(*pool_, script, args);
  // The group vanished with the stream (FLUSHALL, an operator, a restart without persistence). A script meets that
  // in its first stream command for a job, before writing anything else about that job, so recreating the group
  // and running the script again is safe.
  if (!reply.ok() && reply.status().message().find("NOGROUP") != std::string::npos) {
    core::LogWarn(pool_->where() + ": the consumer group of " + prefix_ + "jobs is gone; recreating it");
    if (Status s = CreateGroup(*pool_, prefix_); !s.ok()) return s;
    reply = scripts_->Run(*pool_, script, args);
  }
  return reply;
}

Result<Reply> RedisQueue::Command(const Args& args, std::string_view what) {
  Result<Reply> reply = pool_->Run(args);
  if (reply.ok() && (*reply)->type == REDIS_REPLY_ERROR) return redis::ErrorReply(**reply, what);
  return reply;
}

Result<std::vector<JobRecord>> RedisQueue::DecodeJobs(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY) return Unexpected("job list");
  std::vector<JobRecord> jobs;
  jobs.reserve(reply.elements);
  for (std::size_t i = 0; i < reply.elements; ++i) {
    Result<JobRecord> job = redis::DecodeJob(*reply.element[i]);
    if (!job.ok()) return job.status();
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

Result<SubmitOutcome> RedisQueue::Submit(JobRecord job) {
  // The same submitter-field checks as the SQLite backend, so both reject the same jobs.
  Result<JobRecord> fresh = sqlite::NewQueuedJob(std::move(job));
  if (!fresh.ok()) return fresh.status();
  fresh->version = 1;
  Args args = {fresh->id, fresh->owner, fresh->idempotency_key};
  Args fields = redis::JobFields(*fresh);
  args.insert(args.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
  Result<Reply> reply = Eval(Script::kSubmit, std::move(args));
  if (!reply.ok()) return reply.status();
  const std::string_view tag = At(**reply, 0);
  if (tag == "created") {
    fresh->created_ms = ToInt(At(**reply, 1));
    return SubmitOutcome{std::move(*fresh), true};
  }
  if (tag == "duplicate") return Status(ErrorCode::kConflict, "job " + fresh->id + " already exists");
  if (tag != "existing" || (*reply)->elements < 2) return Unexpected("Submit");
  Result<JobRecord> earlier = redis::DecodeJob(*(*reply)->element[1]);
  if (!earlier.ok()) return earlier.status();
  if (earlier->request_hash != fresh->request_hash) {
    return Status(ErrorCode::kConflict, "idempotency key '" + fresh->idempotency_key + "' was already used for job " +
                                            earlier->id + " with a different request");
  }
  return SubmitOutcome{std::move(*earlier), false};
}

Result<JobRecord> RedisQueue::Get(const std::string& owner, const std::string& id) {
  Result<Reply> reply = Command({"HGETALL", prefix_ + "job:" + id}, "HGETALL");
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ARRAY && (*reply)->elements == 0) return NotFound(id);
  Result<JobRecord> job = redis::DecodeJob(**reply);
  if (!job.ok()) return job.status();
  if (!owner.empty() && job->owner != owner) return NotFound(id);
  return job;
}

Result<JobPage> RedisQueue::List(const ListQuery& query) {
  if (query.owner.empty()) return Status(ErrorCode::kUsage, "List needs an owner");
  std::string cursor_ms;
  std::string cursor_id;
  if (!query.cursor.empty()) {
    // The SQLite backend's cursor format: the same opaque (created_ms, id) position.
    Result<std::pair<Millis, std::string>> decoded = sqlite::DecodeCursor(query.cursor);
    if (!decoded.ok()) return decoded.status();
    cursor_ms = std::to_string(decoded->first);
    cursor_id = std::move(decoded->second);
  }
  const int limit = std::clamp(query.limit, 1, kMaxPageSize);
  const std::string status = query.status ? std::string(JobStatusName(*query.status)) : std::string();
  // One extra job tells whether there is a next page.
  Result<Reply> reply = Eval(Script::kList, {query.owner, status, cursor_ms, cursor_id, std::to_string(limit + 1)});
  if (!reply.ok()) return reply.status();
  Result<std::vector<JobRecord>> jobs = DecodeJobs(**reply);
  if (!jobs.ok()) return jobs.status();
  return sqlite::PageOf(std::move(*jobs), limit);
}

Result<std::optional<JobRecord>> RedisQueue::Lease(const LeaseOptions& options) {
  if (options.worker_id.empty()) return Status(ErrorCode::kUsage, "Lease needs a worker id");
  if (options.lease.count() <= 0) return Status(ErrorCode::kUsage, "Lease needs a positive lease duration");
  const auto deadline = std::chrono::steady_clock::now() + options.wait;
  for (;;) {
    Result<Reply> reply =
        Eval(Script::kLease, {options.worker_id, std::to_string(options.lease.count()), std::to_string(kLeaseBudget)});
    if (!reply.ok()) return reply.status();
    const redisReply& r = **reply;
    if (At(r, 0) == "job" && r.elements == 2) {
      Result<JobRecord> job = redis::DecodeJob(*r.element[1]);
      if (!job.ok()) return job.status();
      return std::optional<JobRecord>(std::move(*job));
    }
    if (At(r, 0) != "none" || r.elements < 5) return Unexpected("Lease");
    if (At(r, 4) == "1") continue;  // the script ran out of budget skipping stale entries: look on at once
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::optional<JobRecord>();
    // Look again at the caller's deadline or when a back-off ends or a lease lapses (by the server's clock, which
    // the script reported with them), whichever comes first.
    auto until = deadline;
    if (const Millis next_ready = ToInt(At(r, 2)); next_ready > 0) {
      until = std::min(until, now + milliseconds(std::max<Millis>(next_ready - ToInt(At(r, 1)), 0)));
    }
    const auto left = std::chrono::ceil<milliseconds>(until - now);
    // Redis times out blocked clients from its cron (every 100 ms at the default hz 10), so an idle server answers
    // XREAD BLOCK up to that late. The last stretch is slept here instead; a job submitted meanwhile is found by
    // the next look, at most that stretch later.
    if (left <= kTimerSlack) {
      std::this_thread::sleep_for(std::max(left, milliseconds(1)));
      continue;
    }
    // Wakes as soon as anything is appended to the stream after the entries the script examined.
    const milliseconds block = std::min(left - kTimerSlack, kMaxBlock);
    Result<Reply> woke = pool_->Run(
        {"XREAD", "BLOCK", std::to_string(block.count()), "STREAMS", prefix_ + "jobs", std::string(At(r, 3))}, block);
    if (!woke.ok()) return woke.status();
    if ((*woke)->type == REDIS_REPLY_ERROR) return redis::ErrorReply(**woke, "XREAD");
  }
}

Status RedisQueue::Renew(const std::string& id, const std::string& worker_id, milliseconds lease,
                         const Heartbeat& progress) {
  if (lease.count() <= 0) return {ErrorCode::kUsage, "Renew needs a positive lease duration"};
  Result<Reply> reply =
      Eval(Script::kRenew, {id, worker_id, std::to_string(lease.count()), std::to_string(progress.frames_done),
                            std::to_string(progress.frames_total)});
  if (Status s = HeldOutcome(reply, id, worker_id, "Renew"); !s.ok()) return s;
  if (At(**reply, 1) == "1") return {ErrorCode::kCanceled, "job " + id + " was canceled by request"};
  return Status::Ok();
}

Status RedisQueue::Complete(const std::string& id, const std::string& worker_id, const std::string& result_key) {
  return HeldOutcome(Eval(Script::kComplete, {id, worker_id, result_key}), id, worker_id, "Complete");
}

Status RedisQueue::Fail(const std::string& id, const std::string& worker_id, const Status& error, bool retryable,
                        milliseconds backoff) {
  const ErrorCode code = error.ok() ? ErrorCode::kInternal : error.code();
  const std::string message = error.ok() ? "the worker reported a failure without an error" : error.message();
  Result<Reply> reply = Eval(
      Script::kFail, {id, worker_id, std::string(error_info(code).name), message, retryable ? "1" : "0",
                      std::to_string(std::max<Millis>(backoff.count(), 0)), code == ErrorCode::kCanceled ? "1" : "0"});
  return HeldOutcome(reply, id, worker_id, "Fail");
}

Status RedisQueue::Release(const std::string& id, const std::string& worker_id) {
  return HeldOutcome(Eval(Script::kRelease, {id, worker_id}), id, worker_id, "Release");
}

Result<JobRecord> RedisQueue::Cancel(const std::string& owner, const std::string& id) {
  Result<Reply> reply = Eval(Script::kCancel, {owner, id});
  if (!reply.ok()) return reply.status();
  const std::string_view tag = At(**reply, 0);
  if (tag == "notfound") return NotFound(id);
  if (tag == "conflict") return Status(ErrorCode::kConflict, "job " + id + " already " + std::string(At(**reply, 1)));
  if (tag != "ok" || (*reply)->elements < 2) return Unexpected("Cancel");
  return redis::DecodeJob(*(*reply)->element[1]);
}

Status RedisQueue::Delete(const std::string& owner, const std::string& id) {
  Result<Reply> reply = Eval(Script::kDelete, {owner, id});
  if (!reply.ok()) return reply.status();
  const std::string_view tag = At(**reply, 0);
  if (tag == "notfound") return NotFound(id);
  return tag == "ok" ? Status::Ok() : Unexpected("Delete");
}

Result<std::int64_t> RedisQueue::CountActive(const std::string& owner) {
  Result<Reply> reply = Command({"SCARD", prefix_ + "active:" + owner}, "SCARD");
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_INTEGER) return Unexpected("SCARD");
  return static_cast<std::int64_t>((*reply)->integer);
}

Result<QueueStats> RedisQueue::Stats() {
  Result<Reply> reply = Command(
      {"HMGET", prefix_ + "stats", "queued", "running", "succeeded", "failed", "canceled", "dead_letters"}, "HMGET");
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements != 6) return Unexpected("Stats");
  // A counter that was never incremented is nil: 0.
  const auto count = [&](std::size_t i) { return ToInt(At(**reply, i)); };
  return QueueStats{.queued = count(0),
                    .running = count(1),
                    .succeeded = count(2),
                    .failed = count(3),
                    .canceled = count(4),
                    .dead_letters = count(5)};
}

Result<std::vector<JobRecord>> RedisQueue::ListFinishedBefore(Millis before, int limit) {
  if (limit <= 0) return std::vector<JobRecord>();
  Result<Reply> reply = Eval(Script::kFinishedBefore, {std::to_string(before), std::to_string(limit)});
  if (!reply.ok()) return reply.status();
  return DecodeJobs(**reply);
}

Status RedisQueue::Ping() {
  Result<Reply> reply = Command({"PING"}, "PING");
  if (!reply.ok()) return reply.status();
  return redis::Text(**reply) == "PONG" ? Status::Ok() : Unexpected("PING");
}

Result<RedisStreamInfo> RedisQueue::GroupInfo() {
  RedisStreamInfo info;
  info.stream_key = prefix_ + "jobs";
  info.group = "workers";
  Result<Reply> groups = Command({"XINFO", "GROUPS", info.stream_key}, "XINFO GROUPS");
  if (!groups.ok()) return groups.status();
  for (std::size_t g = 0; g < (*groups)->elements; ++g) {
    const redisReply& fields = *(*groups)->element[g];
    RedisStreamInfo candidate = info;
    bool ours = false;
    for (std::size_t i = 0; i + 1 < fields.elements; i += 2) {
      const std::string_view name = At(fields, i);
      const redisReply& value = *fields.element[i + 1];
      if (name == "name") ours = redis::Text(value) == info.group;
      if (name == "pending" && value.type == REDIS_REPLY_INTEGER) candidate.pending = value.integer;
      // Redis 7 reports lag as nil when it cannot compute it; Redis 6.2 has no lag field at all.
      if (name == "lag" && value.type == REDIS_REPLY_INTEGER) candidate.lag = value.integer;
    }
    if (ours) {
      info = std::move(candidate);
      break;
    }
  }
  const std::pair<Args, std::int64_t*> counts[] = {{{"XLEN", info.stream_key}, &info.length},
                                                   {{"ZCARD", prefix_ + "delayed"}, &info.delayed},
                                                   {{"XLEN", prefix_ + "dead"}, &info.dead_letters}};
  for (const auto& [args, out] : counts) {
    Result<Reply> reply = Command(args, args[0]);
    if (!reply.ok()) return reply.status();
    if ((*reply)->type != REDIS_REPLY_INTEGER) return Unexpected(args[0]);
    *out = (*reply)->integer;
  }
  return info;
}

// Redis >= 6.2 (XTRIM MINID, XPENDING ranges); older servers are refused with a clear message.
Status CheckVersion(redis::Pool& pool) {
  Result<Reply> reply = pool.Run({"INFO", "server"});
  if (!reply.ok()) return reply.status();
  const std::string_view info = redis::Text(**reply);
  const std::size_t at = info.find("redis_version:");
  if (at == std::string_view::npos) return Status::Ok();  // a Redis-compatible server that hides it: try anyway
  int major = 0;
  int minor = 0;
  const char* p = info.data() + at + 14;
  const char* end = info.data() + info.size();
  p = std::from_chars(p, end, major).ptr;
  if (p < end && *p == '.') std::from_chars(p + 1, end, minor);
  if (major > 6 || (major == 6 && minor >= 2)) return Status::Ok();
  return {ErrorCode::kUsage, pool.where() + " runs Redis " + std::to_string(major) + "." + std::to_string(minor) +
                                 "; the job queue needs Redis 6.2 or newer (7.0 for the lag metric)"};
}

// Warns about server settings that lose jobs: no AOF (acknowledged jobs vanish on restart) and a maxmemory policy
// that evicts keys (job hashes or the stream could disappear). CONFIG may be disabled (managed Redis, ACLs): then
// nothing is said.
void WarnAboutPersistence(redis::Pool& pool) {
  Result<Reply> aof = pool.Run({"CONFIG", "GET", "appendonly"});
  if (aof.ok() && (*aof)->type == REDIS_REPLY_ARRAY && At(**aof, 1) == "no") {
    core::LogWarn(pool.where() +
                  " has appendonly off: jobs accepted by Submit are lost when Redis restarts (set appendonly yes and "
                  "appendfsync everysec, or always for no loss on power failure)");
  }
  Result<Reply> policy = pool.Run({"CONFIG", "GET", "maxmemory-policy"});
  if (policy.ok() && (*policy)->type == REDIS_REPLY_ARRAY && (*policy)->elements == 2 &&
      At(**policy, 1) != "noeviction") {
    core::LogWarn(pool.where() + " has maxmemory-policy " + std::string(At(**policy, 1)) +
                  ": Redis may evict job keys under memory pressure (the queue needs noeviction)");
  }
}

}  // namespace

Result<RedisQueueOptions> ParseRedisUrl(std::string_view url) {
  Result<facefleet::redis::ConnectionOptions> connection = facefleet::redis::ParseUrl(url);
  if (!connection.ok()) return connection.status();
  RedisQueueOptions options;
  static_cast<facefleet::redis::ConnectionOptions&>(options) = *connection;
  return options;
}

Result<std::unique_ptr<JobQueue>> OpenRedisQueue(const RedisQueueOptions& options) {
  if (options.host.empty()) return Status(ErrorCode::kUsage, "the redis job queue needs a host");
  if (options.port < 1 || options.port > 65535) {
    return Status(ErrorCode::kUsage, "the redis port must be 1-65535, got " + std::to_string(options.port));
  }
  if (options.prefix.empty()) {
    return Status(ErrorCode::kUsage, "the redis key prefix must not be empty (it keeps the queue's keys apart)");
  }
  auto pool = std::make_unique<redis::Pool>(static_cast<const facefleet::redis::ConnectionOptions&>(options));
  if (Status s = pool->Probe(); !s.ok()) return s;
  if (Status s = CheckVersion(*pool); !s.ok()) return s;
  // The stream and its group exist from the start, so Lease never has to create them.
  if (Status s = CreateGroup(*pool, options.prefix); !s.ok()) return s;
  auto scripts = std::make_unique<redis::Scripts>();
  if (Status s = scripts->Load(*pool); !s.ok()) return s;
  WarnAboutPersistence(*pool);
  return std::unique_ptr<JobQueue>(std::make_unique<RedisQueue>(options, std::move(pool), std::move(scripts)));
}

Result<RedisStreamInfo> RedisGroupInfo(JobQueue& queue) {
  auto* redis_queue = dynamic_cast<RedisQueueIntrospection*>(&queue);
  if (redis_queue == nullptr) return Status(ErrorCode::kUsage, "GroupInfo needs a queue opened by OpenRedisQueue");
  return redis_queue->GroupInfo();
}

}  // namespace facefleet::jobs
