// The Redis rate limiter (http/rate_limit.hpp), on the shared Redis client (redis/client.hpp).
//
// One bucket per API key, a hash {tokens, us}: the tokens left and the server time (µs) they were counted at.
// One script refills by the time elapsed since, takes a token or computes the wait, and stores the bucket; Redis
// runs it atomically, so any number of replicas share each bucket exactly. Time comes from the server (TIME): the
// replicas' own clocks never enter it, and a server clock that steps back refills nothing (the stored time never
// decreases). The bucket expires when it would be full again plus a margin: a missing bucket is a full one, so
// expiry changes no answer and idle keys leave nothing behind.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <string_view>

#include "core/log.hpp"
#include "http/rate_limit.hpp"
#include "redis/client.hpp"

namespace facefleet::http {
namespace {

// KEYS[1] bucket. ARGV[1] rate (tokens/s), [2] burst, [3] expiry margin (ms).
// Returns the wait in seconds as a string (0 = a token was taken): Redis would truncate a Lua number to an
// integer. Numbers are doubles: µs timestamps (< 2^53) are exact; '%d' writes them without an exponent.
constexpr const char* kAcquire = R"lua(
local rate, burst, margin = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'us')
local tokens, last = tonumber(state[1]), tonumber(state[2])
if tokens == nil or last == nil then
  tokens, last = burst, now
elseif now > last then
  tokens = math.min(burst, tokens + (now - last) * rate / 1000000)
  last = now
end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'us', string.format('%d', last))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil((burst - tokens) / rate * 1000) + margin))
return string.format('%.17g', wait)
)lua";

// The shortest text that reads back as `value` (std::to_string would round small rates to "0.000000").
std::string Number(double value) {
  std::array<char, 32> text{};
  const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() ? std::string(text.data(), end) : "0";
}

class RedisRateLimiter final : public RateLimiter {
 public:
  explicit RedisRateLimiter(const RedisRateLimiterOptions& options)
      : options_(options),
        rate_(Number(options.rate)),
        burst_(Number(std::max(1.0, options.burst))),
        margin_(std::to_string(std::max<std::int64_t>(options.expiry_margin.count(), 0))),
        pool_(options.connection),
        script_(kAcquire) {}

  Status Load() {
    if (Status s = pool_.Probe(); !s.ok()) return s;
    return script_.Load(pool_);
  }

  RateDecision Acquire(const std::string& key_id) override {
    if (options_.rate <= 0) return {};
    Result<redis::Reply> reply =
        script_.Run(pool_, {options_.prefix + "ratelimit:" + key_id}, {rate_, burst_, margin_});
    if (!reply.ok()) return FailOpen(reply.status());
    const std::string_view text = redis::Text(**reply);
    double wait = 0;
    if ((*reply)->type != REDIS_REPLY_STRING ||
        std::from_chars(text.data(), text.data() + text.size(), wait).ec != std::errc()) {
      return FailOpen({ErrorCode::kInternal, "redis rate limiter: unexpected reply '" + std::string(text) + "'"});
    }
    return {.retry_after = wait};
  }

 private:
  // Allows the request (see OpenRedisRateLimiter) and warns at most once per log_interval.
  RateDecision FailOpen(const Status& error) {
    const std::int64_t unchecked = unchecked_.fetch_add(1) + 1;
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    std::int64_t last = last_log_ms_.load();
    const bool due = last == 0 || now - last >= options_.log_interval.count();
    if (due && last_log_ms_.compare_exchange_strong(last, now)) {
      core::LogWarn("rate limits are not enforced while " + pool_.where() + " cannot be reached (" + error.message() +
                    "); requests are let through unchecked (" + std::to_string(unchecked) + " so far)");
    }
    return {.retry_after = 0, .unchecked = true};
  }

  const RedisRateLimiterOptions options_;
  const std::string rate_;
  const std::string burst_;
  const std::string margin_;
  redis::Pool pool_;  // thread-safe; each call borrows a connection
  const redis::Script script_;
  std::atomic<std::int64_t> unchecked_{0};    // requests let through unchecked since start
  std::atomic<std::int64_t> last_log_ms_{0};  // steady clock (ms) of the last warning; 0 = none yet
};

}  // namespace

Result<std::unique_ptr<RateLimiter>> OpenRedisRateLimiter(const RedisRateLimiterOptions& options) {
  if (options.prefix.empty()) {
    return Status(ErrorCode::kUsage, "the redis key prefix must not be empty (it keeps the rate limiter's keys apart)");
  }
  auto limiter = std::make_unique<RedisRateLimiter>(options);
  if (options.rate > 0) {
    if (Status s = limiter->Load(); !s.ok()) return s;
  }
  return std::unique_ptr<RateLimiter>(std::move(limiter));
}

}  // namespace facefleet::http
