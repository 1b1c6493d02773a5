// The RateLimiter contract (http/rate_limit.hpp) against both limiters: the in-process one (ctest label unit) and
// the Redis one on a redis-server this process starts (label contract). Then what only the Redis limiter
// promises: two limiters (= two API replicas) on one Redis share each key's burst and rate, buckets expire, a
// flushed script cache is harmless, and a Redis outage lets requests through (fail open) with one warning.
//
// Rates are small and waits short (well under a second in all); timing assertions are one-sided bounds that a
// slow machine cannot break.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/log.hpp"
#include "http/rate_limit.hpp"
#include "jobs/redis_server.hpp"

namespace facefleet::http {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using facefleet::testing::RedisServer;
using facefleet::testing::SharedRedisServer;

std::string FreshPrefix() { return facefleet::testing::FreshRedisPrefix("rl"); }

RedisRateLimiterOptions OptionsFor(const RedisServer& server, const std::string& prefix, double rate, double burst) {
  RedisRateLimiterOptions options;
  options.connection = facefleet::testing::FastFailConnection(server);
  options.prefix = prefix;
  options.rate = rate;
  options.burst = burst;
  return options;
}

std::unique_ptr<RateLimiter> OpenOrFail(const RedisRateLimiterOptions& options) {
  Result<std::unique_ptr<RateLimiter>> limiter = OpenRedisRateLimiter(options);
  if (!limiter.ok()) {
    ADD_FAILURE() << "OpenRedisRateLimiter: " << limiter.status().ToString();
    return nullptr;
  }
  return std::move(*limiter);
}

// ---- The contract ----------------------------------------------------------------------------------------------

struct LimiterBackend {
  std::string name;  // test-name suffix
  // Called once per test, before any `open`: fresh buckets for this test.
  std::function<void()> reset;
  // A limiter for `rate` tokens per second up to `burst`; nullptr = failed (with ADD_FAILURE).
  std::function<std::unique_ptr<RateLimiter>(double rate, double burst)> open;
};

std::string BackendName(const ::testing::TestParamInfo<LimiterBackend>& info) { return info.param.name; }
// How gtest prints the parameter (test names in ctest, failure messages).
void PrintTo(const LimiterBackend& backend, std::ostream* os) { *os << backend.name; }

class RateLimiterContract : public ::testing::TestWithParam<LimiterBackend> {
 protected:
  void SetUp() override { GetParam().reset(); }

  std::unique_ptr<RateLimiter> Open(double rate, double burst) {
    std::unique_ptr<RateLimiter> limiter = GetParam().open(rate, burst);
    EXPECT_NE(limiter, nullptr);
    return limiter;
  }

  // Acquires `n` times; returns how many were allowed. Every decision must be a checked one.
  static int AllowedOf(RateLimiter& limiter, const std::string& key, int n) {
    int allowed = 0;
    for (int i = 0; i < n; ++i) {
      const RateDecision decision = limiter.Acquire(key);
      EXPECT_FALSE(decision.unchecked);
      if (decision.allowed()) ++allowed;
    }
    return allowed;
  }
};

TEST_P(RateLimiterContract, AllowsTheBurstThenRefusesWithTheTimeToWait) {
  auto limiter = Open(/*rate=*/1, /*burst=*/3);
  ASSERT_NE(limiter, nullptr);
  for (int i = 0; i < 3; ++i) {
    const RateDecision decision = limiter->Acquire("alice");
    EXPECT_TRUE(decision.allowed()) << "request " << i << " of the burst";
    EXPECT_EQ(decision.retry_after, 0);
    EXPECT_FALSE(decision.unchecked);
  }
  const RateDecision refused = limiter->Acquire("alice");
  EXPECT_FALSE(refused.allowed());
  EXPECT_FALSE(refused.unchecked);
  // At 1 token/s the next one is less than a second away (and some of it has passed already).
  EXPECT_GT(refused.retry_after, 0);
  EXPECT_LE(refused.retry_after, 1.0 + 1e-9);
}

TEST_P(RateLimiterContract, RefillsAtTheConfiguredRate) {
  auto limiter = Open(/*rate=*/20, /*burst=*/1);
  ASSERT_NE(limiter, nullptr);
  EXPECT_TRUE(limiter->Acquire("alice").allowed());
  const RateDecision refused = limiter->Acquire("alice");
  ASSERT_FALSE(refused.allowed());
  EXPECT_LE(refused.retry_after, 0.05 + 1e-9);
  // Waiting as long as it said (and a little) earns exactly one token: the burst of 1 caps the refill.
  std::this_thread::sleep_for(std::chrono::duration<double>(refused.retry_after) + milliseconds(20));
  EXPECT_TRUE(limiter->Acquire("alice").allowed());
  EXPECT_FALSE(limiter->Acquire("alice").allowed());
}

TEST_P(RateLimiterContract, EachKeyHasItsOwnBucket) {
  auto limiter = Open(/*rate=*/1, /*burst=*/2);
  ASSERT_NE(limiter, nullptr);
  EXPECT_EQ(AllowedOf(*limiter, "alice", 5), 2);
  EXPECT_EQ(AllowedOf(*limiter, "bob", 5), 2);
}

TEST_P(RateLimiterContract, RateZeroNeverLimits) {
  auto limiter = Open(/*rate=*/0, /*burst=*/1);
  ASSERT_NE(limiter, nullptr);
  EXPECT_EQ(AllowedOf(*limiter, "alice", 200), 200);
}

TEST_P(RateLimiterContract, ConcurrentRequestsNeverExceedTheBurst) {
  auto limiter = Open(/*rate=*/0.001, /*burst=*/10);
  ASSERT_NE(limiter, nullptr);
  std::atomic<int> allowed{0};
  std::atomic<int> unchecked{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 6; ++i) {
          const RateDecision decision = limiter->Acquire("alice");
          if (decision.allowed()) ++allowed;
          if (decision.unchecked) ++unchecked;
        }
      });
    }
  }
  EXPECT_EQ(allowed.load(), 10) << "48 requests at once: exactly the burst may pass";
  EXPECT_EQ(unchecked.load(), 0);
}

LimiterBackend LocalBackend() {
  return {.name = "local",
          .reset = [] {},
          .open = [](double rate, double burst) { return std::make_unique<LocalRateLimiter>(rate, burst); }};
}

// The prefix of the case in progress: every limiter a case opens shares its buckets.
std::string& CurrentPrefix() {
  static std::string prefix;
  return prefix;
}

LimiterBackend RedisBackend() {
  return {.name = "redis",
          .reset = [] { CurrentPrefix() = FreshPrefix(); },
          .open = [](double rate, double burst) -> std::unique_ptr<RateLimiter> {
            if (!SharedRedisServer().ok()) {
              ADD_FAILURE() << "redis-server: " << SharedRedisServer().error();
              return nullptr;
            }
            return OpenOrFail(OptionsFor(SharedRedisServer(), CurrentPrefix(), rate, burst));
          }};
}

INSTANTIATE_TEST_SUITE_P(Local, RateLimiterContract, ::testing::Values(LocalBackend()), BackendName);
INSTANTIATE_TEST_SUITE_P(Redis, RateLimiterContract, ::testing::Values(RedisBackend()), BackendName);

// ---- Redis: replicas, expiry, outages --------------------------------------------------------------------------

class RedisRateLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SharedRedisServer().ok()) << SharedRedisServer().error();
    prefix_ = FreshPrefix();
  }

  // One API replica's limiter: its own connections, the shared buckets.
  std::unique_ptr<RateLimiter> Replica(double rate, double burst) {
    return OpenOrFail(OptionsFor(SharedRedisServer(), prefix_, rate, burst));
  }

  std::string prefix_;
};

TEST_F(RedisRateLimiterTest, TwoReplicasShareOneBurst) {
  auto a = Replica(/*rate=*/0.001, /*burst=*/4);
  auto b = Replica(/*rate=*/0.001, /*burst=*/4);
  ASSERT_TRUE(a && b);
  int allowed = 0;
  for (int i = 0; i < 6; ++i) {
    for (RateLimiter* replica : {a.get(), b.get()}) {
      const RateDecision decision = replica->Acquire("alice");
      EXPECT_FALSE(decision.unchecked);
      if (decision.allowed()) ++allowed;
    }
  }
  EXPECT_EQ(allowed, 4) << "two replicas with their own buckets would have allowed 8";
  // Both see the same empty bucket and the same time to wait (1 token at 0.001/s: up to 1000 s).
  EXPECT_GT(a->Acquire("alice").retry_after, 900);
  EXPECT_GT(b->Acquire("alice").retry_after, 900);
}

TEST_F(RedisRateLimiterTest, TwoReplicasTogetherStayWithinTheRate) {
  constexpr double kRate = 20;
  auto a = Replica(kRate, /*burst=*/2);
  auto b = Replica(kRate, /*burst=*/2);
  ASSERT_TRUE(a && b);
  // Empty the bucket, then ask through both replicas in turn for 400 ms.
  while (a->Acquire("alice").allowed()) {
  }
  int allowed = 0;
  const auto start = Clock::now();
  while (Clock::now() - start < milliseconds(400)) {
    for (RateLimiter* replica : {a.get(), b.get()}) {
      if (replica->Acquire("alice").allowed()) ++allowed;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // The window earns at most elapsed × rate tokens (+1 for the fraction left when it began); separate buckets
  // would allow about twice that.
  EXPECT_LE(allowed, static_cast<int>(elapsed * kRate) + 1) << "elapsed " << elapsed << " s";
  EXPECT_GE(allowed, 2) << "the bucket must refill at all";
}

TEST_F(RedisRateLimiterTest, BucketsExpireOnceTheyWouldBeFull) {
  RedisRateLimiterOptions options = OptionsFor(SharedRedisServer(), prefix_, /*rate=*/10, /*burst=*/2);
  options.expiry_margin = milliseconds(50);
  auto limiter = OpenOrFail(options);
  ASSERT_NE(limiter, nullptr);
  const std::string key = prefix_ + "ratelimit:alice";
  ASSERT_TRUE(limiter->Acquire("alice").allowed());
  // One token short at 10/s: full again after 100 ms; the key lives that long plus the margin.
  const std::vector<std::string> ttl = SharedRedisServer().Query({"PTTL", key});
  ASSERT_EQ(ttl.size(), 1U);
  EXPECT_GT(std::stoll(ttl[0]), 0) << "the bucket must have a TTL";
  EXPECT_LE(std::stoll(ttl[0]), 150);
  const auto deadline = Clock::now() + milliseconds(1000);
  while (SharedRedisServer().Query({"EXISTS", key}) != std::vector<std::string>{"0"} && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(SharedRedisServer().Query({"EXISTS", key}), std::vector<std::string>{"0"}) << "the bucket did not expire";
  // A missing bucket is a full one.
  EXPECT_TRUE(limiter->Acquire("alice").allowed());
  EXPECT_TRUE(limiter->Acquire("alice").allowed());
  EXPECT_FALSE(limiter->Acquire("alice").allowed());
}

TEST_F(RedisRateLimiterTest, AFlushedScriptCacheIsReloaded) {
  auto limiter = Replica(/*rate=*/1, /*burst=*/2);
  ASSERT_NE(limiter, nullptr);
  EXPECT_TRUE(limiter->Acquire("alice").allowed());
  ASSERT_EQ(SharedRedisServer().Query({"SCRIPT", "FLUSH"}), std::vector<std::string>{"OK"});
  const RateDecision after = limiter->Acquire("alice");
  EXPECT_TRUE(after.allowed());
  EXPECT_FALSE(after.unchecked);
  EXPECT_FALSE(limiter->Acquire("alice").allowed());
}

// Collects log lines while alive.
class LogCapture {
 public:
  LogCapture() {
    core::SetLogSink([this](core::LogLevel /*level*/, std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { core::SetLogSink(nullptr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  int Count(const std::string& needle) {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count_if(
        lines_.begin(), lines_.end(), [&](const std::string& line) { return line.find(needle) != std::string::npos; }));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST(RedisRateLimiterOutageTest, FailsOpenWhileRedisIsDownAndRecovers) {
  RedisServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  RedisRateLimiterOptions options = OptionsFor(server, "outage:", /*rate=*/0.001, /*burst=*/1);
  options.log_interval = std::chrono::minutes(10);
  auto limiter = OpenOrFail(options);
  ASSERT_NE(limiter, nullptr);
  EXPECT_TRUE(limiter->Acquire("alice").allowed());
  EXPECT_FALSE(limiter->Acquire("alice").allowed());

  LogCapture log;
  server.Stop(/*crash=*/false);
  const auto start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    const RateDecision decision = limiter->Acquire("alice");
    EXPECT_TRUE(decision.allowed()) << "an unreachable limiter lets requests through";
    EXPECT_TRUE(decision.unchecked);
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2)) << "checks must fail fast while Redis is down";
  EXPECT_EQ(log.Count("rate limits are not enforced"), 1) << "one warning per log interval";

  ASSERT_TRUE(server.Start()) << server.error();
  // After the reconnect back-off the same limiter checks again, with the bucket Redis kept (AOF): still empty.
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  RateDecision decision = limiter->Acquire("alice");
  while (decision.unchecked && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    decision = limiter->Acquire("alice");
  }
  EXPECT_FALSE(decision.unchecked) << "the limiter did not reconnect";
  EXPECT_FALSE(decision.allowed());
}

TEST(RedisRateLimiterOutageTest, OpenNamesAnUnreachableServer) {
  RedisRateLimiterOptions options;
  options.connection.port = 1;  // privileged and unused: refused at once
  options.connection.connect_timeout = milliseconds(500);
  Result<std::unique_ptr<RateLimiter>> limiter = OpenRedisRateLimiter(options);
  EXPECT_EQ(limiter.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(limiter.status().message().find("127.0.0.1:1"), std::string::npos) << limiter.status().message();
}

}  // namespace
}  // namespace facefleet::http
