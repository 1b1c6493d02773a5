// Internals of the Redis job queue shared by its translation units: the Lua scripts that make every job change
// atomic (redis_queue_scripts.cpp) and the job hash codec (redis_queue_record.cpp). Connections come from the
// shared client (redis/client.hpp). Only redis_queue*.cpp include this.
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

#include "facefleet/status.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/redis_queue.hpp"
#include "redis/client.hpp"

namespace facefleet::jobs::redis {

// The shared client (redis/client.hpp), named here as the queue's files always have.
using facefleet::redis::Args;
using facefleet::redis::ErrorReply;
using facefleet::redis::Pool;
using facefleet::redis::Reply;
using facefleet::redis::Text;

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

// The queue's scripts, each run by SHA (EVALSHA) with its text sent only when the server does not know it yet
// (redis::Script). Immutable after construction, so thread-safe.
class Scripts {
 public:
  Scripts();
  // Registers every script with SCRIPT LOAD (a script the server rejects fails here, at start-up).
  Status Load(Pool& pool) const;
  // The reply of `script` run with `argv` (prefix, TTL and dead-letter cap first; see redis_queue_scripts.cpp).
  // Error replies become a Status.
  Result<Reply> Run(Pool& pool, Script script, const Args& argv) const;

 private:
  std::vector<facefleet::redis::Script> scripts_;  // indexed by Script
};

// The job hash: JobRecord fields plus the queue's bookkeeping (updated_ms, dead_letter, entry).
// Every field of `job` as HSET arguments (name, value, name, value, ...).
Args JobFields(const JobRecord& job);
// Decodes an HGETALL reply (an array of name/value pairs). kInternal when a field is missing or malformed.
Result<JobRecord> DecodeJob(const redisReply& flat);

}  // namespace facefleet::jobs::redis
