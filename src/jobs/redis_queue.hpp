// Redis Streams backend of JobQueue (hiredis): one Redis 7 server (or any single-shard deployment) shared by
// every API server and worker of a fleet. The design (keys, scripts, durability, leasing) is described at the top
// of redis_queue.cpp; the behaviour is the one documented in job_queue.hpp.
//
// Thread safety: as JobQueue — every method may be called from any thread. Each call borrows its own connection
// from a small pool (hiredis contexts are not thread-safe).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "facefleet/status.hpp"
#include "jobs/job_queue.hpp"
#include "redis/options.hpp"

namespace facefleet::jobs {

// The connection (host, port, credentials, timeouts, reconnect back-off; redis/options.hpp) plus the queue's own
// settings.
struct RedisQueueOptions : facefleet::redis::ConnectionOptions {
  // Every key starts with this; several queues (or test cases) can share one server with different prefixes.
  // Use a hash tag ("{facefleet}:") to keep all keys in one slot of a Redis Cluster.
  std::string prefix = "facefleet:";
  // Finished job hashes expire after this (a safety net; the retention sweeper normally deletes them first).
  // 0 = never expire.
  std::chrono::milliseconds finished_ttl{std::chrono::hours(25)};
  std::int64_t dead_letter_max_len = 10'000;  // the dead-letter stream is capped near this length (XADD MAXLEN ~)
};

// redis::ParseUrl (see redis/options.hpp) with the queue's defaults for everything the URL does not set.
Result<RedisQueueOptions> ParseRedisUrl(std::string_view url);

// "redis://user:***@host:port/db": where the queue connects, for logs and error messages (password masked).
inline std::string DescribeRedis(const facefleet::redis::ConnectionOptions& options) {
  return facefleet::redis::Describe(options);
}

// Connects (kUnavailable when Redis does not answer, kUsage when it rejects the credentials or is too old: Redis
// 6.2 is the minimum, 7.0 for GroupInfo's lag) and creates the stream and its consumer group if needed.
Result<std::unique_ptr<JobQueue>> OpenRedisQueue(const RedisQueueOptions& options);

// The numbers an autoscaler needs (KEDA's redis-streams scaler in lagCount mode reads the same lag).
struct RedisStreamInfo {
  std::string stream_key;           // the jobs stream, e.g. "facefleet:jobs"
  std::string group;                // its consumer group ("workers")
  std::int64_t length = 0;          // XLEN: entries still in the stream (acknowledged ones are trimmed lazily)
  std::int64_t pending = 0;         // delivered to a worker and not yet acknowledged: running jobs
  std::optional<std::int64_t> lag;  // not yet delivered: waiting jobs (nullopt when Redis cannot tell)
  std::int64_t delayed = 0;         // retries waiting for their back-off (outside the stream until due)
  std::int64_t dead_letters = 0;    // length of the dead-letter stream
};

// Implemented by the queue OpenRedisQueue returns, next to JobQueue.
class RedisQueueIntrospection {
 public:
  virtual Result<RedisStreamInfo> GroupInfo() = 0;

 protected:
  ~RedisQueueIntrospection() = default;
};

// GroupInfo of a queue opened by OpenRedisQueue; kUsage for any other backend.
Result<RedisStreamInfo> RedisGroupInfo(JobQueue& queue);

}  // namespace facefleet::jobs
