// Internals of the Redis job queue shared by its translation units: the connection pool (redis_queue_conn.cpp),
// the Lua scripts that make every job change atomic (redis_queue_scripts.cpp) and the job hash codec
// (redis_queue_record.cpp). Only redis_queue*.cpp include this.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include "facefleet/status.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/redis_queue.hpp"

namespace facefleet::jobs::redis {

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
using Args = std::vector<std::string>;

// The text of a string-like reply (bulk string, status, error); "" for any other type.
std::string_view Text(const redisReply& reply);
// A Status for an error reply: kUnavailable for the conditions that pass (loading, busy script, failover,
// out of memory, credentials changed), kInternal otherwise. `what` names the operation.
Status ErrorReply(const redisReply& reply, std::string_view what);

// One hiredis context. Not thread-safe: the pool hands it to one caller at a time.
class Connection;

// Connections to one server, opened on demand and kept for reuse (at most max_idle_connections idle).
// Thread-safe.
class Pool {
 public:
  explicit Pool(RedisQueueOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs one command on a pooled connection and returns its reply, error replies included (the caller decides
  // what they mean). `block` extends the reply timeout for a blocking command. Transport failures (refused,
  // reset, timed out) and connects during the reconnect back-off are kUnavailable.
  Result<Reply> Run(const Args& args, std::chrono::milliseconds block = std::chrono::milliseconds(0));

  // Opens a fresh connection and closes it: kUsage when the server rejects the credentials or the database
  // index (a configuration error), kUnavailable when it does not answer. Used once, by OpenRedisQueue.
  Status Probe();

  // "redis://user:***@host:port/db" for messages.
  const std::string& where() const { return where_; }

 private:
  Result<std::unique_ptr<Connection>> Acquire();
  void Release(std::unique_ptr<Connection> conn);

  const RedisQueueOptions options_;
  const std::string where_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
  // Reconnect back-off, guarded by mutex_: no connect is tried before retry_after_.
  std::chrono::steady_clock::time_point retry_after_;
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

// The Lua scripts; each runs atomically on the server (see redis_queue.cpp for what they keep consistent).
enum class Script : std::uint8_t {
  kSubmit,
  kLease,
  kRenew,
  kComplete,
  kFail,
  kRelease,
  kCancel,
  kDelete,
  kList,
  kFinishedBefore,
  kCount  // number of scripts
};

// Runs the scripts by SHA (EVALSHA), sending the text only when the server does not know it yet (first use,
// or after a restart emptied its script cache).
class Scripts {
 public:
  Scripts();
  // Registers every script with SCRIPT LOAD and remembers the SHA-1 the server returns.
  Status Load(Pool& pool);
  // The reply of `script` run with `argv` (prefix, TTL and dead-letter cap first; see redis_queue_scripts.cpp).
  // Error replies become a Status.
  Result<Reply> Run(Pool& pool, Script script, const Args& argv);

 private:
  std::array<std::string, static_cast<std::size_t>(Script::kCount)> text_;
  std::mutex mutex_;
  std::array<std::string, static_cast<std::size_t>(Script::kCount)> sha_;  // guarded by mutex_
};

// The job hash: JobRecord fields plus the queue's bookkeeping (updated_ms, dead_letter, entry).
// Every field of `job` as HSET arguments (name, value, name, value, ...).
Args JobFields(const JobRecord& job);
// Decodes an HGETALL reply (an array of name/value pairs). kInternal when a field is missing or malformed.
Result<JobRecord> DecodeJob(const redisReply& flat);

}  // namespace facefleet::jobs::redis
