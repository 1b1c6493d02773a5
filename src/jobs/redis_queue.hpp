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

namespace facefleet::jobs {

struct RedisQueueOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  // ACL user; "" = the default user
  std::string password;  // "" = no AUTH. Never logged and never part of an error message.
  // Every key starts with this; several queues (or test cases) can share one server with different prefixes.
  // Use a hash tag ("{facefleet}:") to keep all keys in one slot of a Redis Cluster.
  std::string prefix = "facefleet:";
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};  // per command, on top of a Lease's blocking wait
  // After a failed connect, calls fail fast with kUnavailable for a back-off that doubles from the minimum up to
  // the maximum; the first call after it tries to connect again.
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{1'000};
  // Finished job hashes expire after this (a safety net; the retention sweeper normally deletes them first).
  // 0 = never expire.
  std::chrono::milliseconds finished_ttl{std::chrono::hours(25)};
  std::int64_t dead_letter_max_len = 10'000;  // the dead-letter stream is capped near this length (XADD MAXLEN ~)
  std::size_t max_idle_connections = 16;      // pooled connections kept open between calls
};

// "redis://[user[:password]@]host[:port][/db]" (user and password percent-decoded; port 6379 and db 0 by
// default; IPv6 hosts in brackets). The password may also come from the environment variable
// FACEFLEET_REDIS_PASSWORD, used when the URL has none (keeps it out of command lines). kUsage when malformed;
// the message never contains the password.
Result<RedisQueueOptions> ParseRedisUrl(std::string_view url);

// "redis://user:***@host:port/db": where the queue connects, for logs and error messages (password masked).
std::string DescribeRedis(const RedisQueueOptions& options);

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
