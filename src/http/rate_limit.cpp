// LocalRateLimiter (http/rate_limit.hpp): token buckets in this process.
#include "http/rate_limit.hpp"

#include <algorithm>
#include <functional>

namespace facefleet::http {

LocalRateLimiter::LocalRateLimiter(double rate, double burst)
    : rate_(rate), burst_(std::max(1.0, burst)), shards_(kShards) {}

RateDecision LocalRateLimiter::Acquire(const std::string& key_id) {
  if (rate_ <= 0) return {};
  Shard& shard = shards_[std::hash<std::string>{}(key_id) % kShards];
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.buckets.try_emplace(key_id, Bucket{burst_, now});
  Bucket& bucket = it->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
  bucket.updated = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {};
  }
  return {.retry_after = (1 - bucket.tokens) / rate_};
}

}  // namespace facefleet::http
