// Per-API-key request rate limits: token buckets that refill at `rate` tokens per second up to `burst`; each
// request takes one token or is refused (429) with the time until one is available.
//
// Two limiters: LocalRateLimiter keeps the buckets in this process (one server: the configured rate; N servers:
// N times it), the Redis one (OpenRedisRateLimiter) keeps them in Redis, so every API replica of a fleet draws
// from the same bucket and the fleet as a whole allows the configured rate.
//
// Thread safety: Acquire may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "facefleet/status.hpp"
#include "redis/options.hpp"

namespace facefleet::http {

struct RateDecision {
  double retry_after = 0;  // seconds until a token is available; 0 = allowed (a token was taken)
  // Allowed without a check: the shared limiter could not be reached (it fails open; see OpenRedisRateLimiter).
  bool unchecked = false;
  bool allowed() const { return retry_after <= 0; }
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes a token from `key_id`'s bucket, or says how long until one is available. Never fails.
  virtual RateDecision Acquire(const std::string& key_id) = 0;
};

// Buckets in this process. rate <= 0 disables limiting; burst is at least 1.
class LocalRateLimiter final : public RateLimiter {
 public:
  LocalRateLimiter(double rate, double burst);
  RateDecision Acquire(const std::string& key_id) override;

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  static constexpr std::size_t kShards = 16;  // one mutex per shard: keys never contend across shards
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  const double rate_;
  const double burst_;
  std::vector<Shard> shards_;
};

struct RedisRateLimiterOptions {
  // A rate check runs on every API request: keep its timeouts short, so an unresponsive Redis delays requests
  // by at most this much before they are let through.
  redis::ConnectionOptions connection;
  // One bucket per key: <prefix>ratelimit:<key id>, a hash {tokens, us} that expires once it would be full again
  // (refill time + expiry_margin), so idle keys leave nothing behind.
  std::string prefix = "facefleet:";
  double rate = 50;  // tokens per second; <= 0 disables limiting (Redis is then never asked)
  double burst = 100;
  std::chrono::milliseconds expiry_margin{1'000};
  // While Redis cannot be reached, one warning per this interval (with the number of unchecked requests).
  std::chrono::milliseconds log_interval{60'000};
};

// A limiter whose buckets live in Redis: one Lua script refills and takes a token atomically, with the Redis
// server's clock (TIME), so replicas with skewed clocks agree.
//
// When Redis cannot be reached or fails (down, timeout, error reply), Acquire fails open: the request is allowed
// with `unchecked` set, a warning is logged at most once per log_interval. Refusing every request instead would
// turn a Redis outage into a full API outage, including reads of finished jobs; submissions are refused anyway,
// with 503, by the job queue (on the same Redis).
//
// kUsage for bad options, or when Redis rejects the credentials; kUnavailable when it does not answer at open.
Result<std::unique_ptr<RateLimiter>> OpenRedisRateLimiter(const RedisRateLimiterOptions& options);

}  // namespace facefleet::http
