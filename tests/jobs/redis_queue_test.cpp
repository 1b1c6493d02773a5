// The Redis Streams backend: the JobQueue contract suite against a redis-server the test starts, Redis-specific
// behaviour (dead letters, heartbeats vs. takeover, outages, AOF restarts, lag, AUTH) and ParseRedisUrl.
#include "jobs/redis_queue.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "job_queue_contract.hpp"
#include "redis_server.hpp"

namespace facefleet::jobs {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using facefleet::testing::RedisServer;
using facefleet::testing::SharedRedisServer;

std::string FreshPrefix(const std::string& what) { return facefleet::testing::FreshRedisPrefix("t-" + what + "-"); }

RedisQueueOptions OptionsFor(const RedisServer& server, const std::string& prefix) {
  RedisQueueOptions options;
  options.host = server.host();
  options.port = server.port();
  options.prefix = prefix;
  options.password.clear();
  return options;
}

std::unique_ptr<JobQueue> OpenOrFail(const RedisQueueOptions& options) {
  Result<std::unique_ptr<JobQueue>> queue = OpenRedisQueue(options);
  if (!queue.ok()) {
    ADD_FAILURE() << "OpenRedisQueue: " << queue.status().ToString();
    return nullptr;
  }
  return std::move(*queue);
}

JobRecord NewJob(const std::string& owner = "alice", int max_attempts = 3) {
  JobRecord job;
  job.owner = owner;
  job.options_json = "{}";
  job.source_keys = {"uploads/a.jpg"};
  job.target_key = "uploads/t.jpg";
  job.output_ext = ".jpg";
  job.max_attempts = max_attempts;
  return job;
}

}  // namespace

namespace contract {
namespace {

// The prefix of the case in progress: `reopen` connects a new queue to the same keys.
std::string& CurrentPrefix() {
  static std::string prefix;
  return prefix;
}

std::unique_ptr<JobQueue> OpenOnSharedServer() {
  RedisServer& server = SharedRedisServer();
  if (!server.ok()) {
    ADD_FAILURE() << "redis-server: " << server.error();
    return nullptr;
  }
  return OpenOrFail(OptionsFor(server, CurrentPrefix()));
}

QueueBackend RedisBackend() {
  return {.name = "redis",
          .open =
              [](const std::string& /*scratch_dir*/) {
                CurrentPrefix() = FreshPrefix("contract");
                return OpenOnSharedServer();
              },
          .reopen = [](const std::string& /*scratch_dir*/) { return OpenOnSharedServer(); }};
}

INSTANTIATE_TEST_SUITE_P(Redis, JobQueueContract, ::testing::Values(RedisBackend()), BackendName);

}  // namespace
}  // namespace contract

namespace {

class RedisQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SharedRedisServer().ok()) << SharedRedisServer().error();
    prefix_ = FreshPrefix("redis");
    queue_ = OpenOrFail(OptionsFor(SharedRedisServer(), prefix_));
    ASSERT_NE(queue_, nullptr);
  }

  JobRecord Submit(JobQueue& queue, int max_attempts = 3) {
    Result<SubmitOutcome> out = queue.Submit(NewJob("alice", max_attempts));
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? out->job : JobRecord{};
  }

  static std::optional<JobRecord> Lease(JobQueue& queue, const std::string& worker, milliseconds lease) {
    Result<std::optional<JobRecord>> job = queue.Lease({.worker_id = worker, .lease = lease, .wait = {}});
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? *job : std::nullopt;
  }

  RedisStreamInfo Info() {
    Result<RedisStreamInfo> info = RedisGroupInfo(*queue_);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : RedisStreamInfo{};
  }

  std::string prefix_;
  std::unique_ptr<JobQueue> queue_;
};

TEST_F(RedisQueueTest, GroupInfoLagCountsUndeliveredJobs) {
  for (int i = 0; i < 5; ++i) Submit(*queue_);
  RedisStreamInfo info = Info();
  EXPECT_EQ(info.stream_key, prefix_ + "jobs");
  EXPECT_EQ(info.group, "workers");
  EXPECT_EQ(info.lag, 5);
  EXPECT_EQ(info.pending, 0);
  EXPECT_EQ(info.length, 5);
  const std::optional<JobRecord> first = Lease(*queue_, "w1", std::chrono::seconds(30));
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(Lease(*queue_, "w2", std::chrono::seconds(30)).has_value());
  info = Info();
  EXPECT_EQ(info.lag, 3);
  EXPECT_EQ(info.pending, 2);
  // Finishing acknowledges the entry; the lag stays exact (trimming, never XDEL).
  ASSERT_TRUE(queue_->Complete(first->id, "w1", "results/1.jpg").ok());
  info = Info();
  EXPECT_EQ(info.lag, 3);
  EXPECT_EQ(info.pending, 1);
  // A retry in back-off waits outside the stream.
  const std::optional<JobRecord> third = Lease(*queue_, "w3", std::chrono::seconds(30));
  ASSERT_TRUE(third.has_value());
  ASSERT_TRUE(queue_->Fail(third->id, "w3", Status(ErrorCode::kUnavailable, "x"), true, std::chrono::minutes(1)).ok());
  info = Info();
  EXPECT_EQ(info.delayed, 1);
  EXPECT_EQ(info.lag, 2);
  EXPECT_EQ(info.pending, 1);
}

TEST_F(RedisQueueTest, DeadLetterStreamGetsTheJobAfterMaxAttemptsOfSilentWorkers) {
  const JobRecord job = Submit(*queue_, 2);
  ASSERT_TRUE(Lease(*queue_, "w1", milliseconds(50)).has_value());
  std::this_thread::sleep_for(milliseconds(80));
  const std::optional<JobRecord> again = Lease(*queue_, "w2", milliseconds(50));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, job.id);
  EXPECT_EQ(again->attempts, 2);
  // The pending entry moved to the new holder and counts both deliveries.
  const std::vector<std::string> pending =
      SharedRedisServer().Query({"XPENDING", prefix_ + "jobs", "workers", "-", "+", "10"});
  ASSERT_EQ(pending.size(), 4U);  // id, consumer, idle ms, deliveries
  EXPECT_EQ(pending[1], "w2");
  EXPECT_EQ(pending[3], "2");
  std::this_thread::sleep_for(milliseconds(80));
  EXPECT_FALSE(Lease(*queue_, "w3", milliseconds(50)).has_value());

  Result<JobRecord> failed = queue_->Get("", job.id);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, JobStatus::kFailed);
  EXPECT_EQ(failed->error_code, "internal");
  const RedisStreamInfo info = Info();
  EXPECT_EQ(info.dead_letters, 1);
  EXPECT_EQ(info.pending, 0);
  const std::vector<std::string> dead = SharedRedisServer().Query({"XRANGE", prefix_ + "dead", "-", "+"});
  ASSERT_GE(dead.size(), 3U);
  EXPECT_EQ(dead[1], "id");
  EXPECT_EQ(dead[2], job.id);
  EXPECT_NE(std::find(dead.begin(), dead.end(), "attempts"), dead.end());
}

TEST_F(RedisQueueTest, AHeartbeatingWorkerIsNeverStolen) {
  const JobRecord job = Submit(*queue_);
  constexpr milliseconds kLease{100};
  ASSERT_TRUE(Lease(*queue_, "holder", kLease).has_value());
  // The thief polls for lease * 4 of wall time; the holder heartbeats until the thief has given up.
  std::atomic<bool> thief_done{false};
  std::atomic<int> stolen{0};
  std::thread thief([&] {
    const auto until = Clock::now() + kLease * 4;
    while (Clock::now() < until) {
      Result<std::optional<JobRecord>> got =
          queue_->Lease({.worker_id = "thief", .lease = kLease, .wait = milliseconds(20)});
      if (got.ok() && got->has_value()) stolen.fetch_add(1);
    }
    thief_done.store(true);
  });
  while (!thief_done.load()) {
    EXPECT_TRUE(queue_->Renew(job.id, "holder", kLease, {.frames_done = 1, .frames_total = 2}).ok());
    std::this_thread::sleep_for(kLease / 4);
  }
  thief.join();
  EXPECT_EQ(stolen.load(), 0);
  EXPECT_TRUE(queue_->Complete(job.id, "holder", "results/x.jpg").ok());
  const std::vector<std::string> pending =
      SharedRedisServer().Query({"XPENDING", prefix_ + "jobs", "workers", "-", "+", "10"});
  EXPECT_TRUE(pending.empty());
}

TEST_F(RedisQueueTest, ConsumersExistOnlyWhileTheyHoldJobs) {
  const std::vector<std::string> consumers = {"XINFO", "CONSUMERS", prefix_ + "jobs", "workers"};
  EXPECT_FALSE(Lease(*queue_, "idle-poller", std::chrono::seconds(30)).has_value());
  EXPECT_TRUE(SharedRedisServer().Query(consumers).empty()) << "a poller that found nothing left a consumer behind";
  const JobRecord job = Submit(*queue_);
  ASSERT_TRUE(Lease(*queue_, "holder", std::chrono::seconds(30)).has_value());
  const std::vector<std::string> holding = SharedRedisServer().Query(consumers);
  ASSERT_GE(holding.size(), 2U);
  EXPECT_EQ(holding[1], "holder");
  ASSERT_TRUE(queue_->Complete(job.id, "holder", "results/x.jpg").ok());
  EXPECT_TRUE(SharedRedisServer().Query(consumers).empty());
}

TEST_F(RedisQueueTest, ALostStreamAndGroupAreRecreated) {
  const JobRecord running = Submit(*queue_);
  ASSERT_TRUE(Lease(*queue_, "w1", std::chrono::seconds(30)).has_value());
  ASSERT_EQ(SharedRedisServer().Query({"DEL", prefix_ + "jobs"}), std::vector<std::string>{"1"});
  // The holder can still finish its job, and new jobs flow again (jobs that were waiting in the lost stream
  // are not re-added: that needs the stream back).
  EXPECT_TRUE(queue_->Complete(running.id, "w1", "results/r.jpg").ok());
  const JobRecord next = Submit(*queue_);
  const std::optional<JobRecord> leased = Lease(*queue_, "w2", std::chrono::seconds(30));
  ASSERT_TRUE(leased.has_value());
  EXPECT_EQ(leased->id, next.id);
}

TEST_F(RedisQueueTest, RedisGroupInfoNeedsARedisQueue) {
  facefleet::testing::TempDir dir;
  Result<std::unique_ptr<JobQueue>> sqlite = OpenSqliteQueue({.path = dir.File("q.db")});
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ(RedisGroupInfo(**sqlite).status().code(), ErrorCode::kUsage);
}

TEST(RedisQueueServerTest, JobsSurviveARedisRestartFromTheAof) {
  RedisServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  const RedisQueueOptions options = OptionsFor(server, "crash:");
  std::unique_ptr<JobQueue> queue = OpenOrFail(options);
  ASSERT_NE(queue, nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Result<SubmitOutcome> out = queue->Submit(NewJob());
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ids.push_back(out->job.id);
  }
  Result<std::optional<JobRecord>> leased = queue->Lease({.worker_id = "w", .lease = std::chrono::seconds(30)});
  ASSERT_TRUE(leased.ok() && leased->has_value());
  ASSERT_TRUE(queue->Complete((*leased)->id, "w", "results/0.jpg").ok());
  queue.reset();

  // A clean restart (SIGTERM writes and fsyncs the AOF): everything comes back from the AOF alone (no RDB). A
  // crash is not tested: with appendfsync everysec Redis may postpone AOF writes while an fsync is running and
  // still reply, so a kill can lose the last 1-2 s of acknowledged writes (appendfsync always cannot).
  ASSERT_TRUE(server.Restart(/*crash=*/false)) << server.error();
  queue = OpenOrFail(options);
  ASSERT_NE(queue, nullptr);
  for (const std::string& id : ids) {
    Result<JobRecord> job = queue->Get("alice", id);
    ASSERT_TRUE(job.ok()) << id << ": " << job.status().ToString();
    EXPECT_EQ(job->status, id == ids[0] ? JobStatus::kSucceeded : JobStatus::kQueued);
  }
  Result<QueueStats> stats = queue->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued, 19);
  EXPECT_EQ(stats->succeeded, 1);
  // The stream and group came back too: the next job in line is the second one submitted.
  Result<std::optional<JobRecord>> next = queue->Lease({.worker_id = "w", .lease = std::chrono::seconds(30)});
  ASSERT_TRUE(next.ok() && next->has_value()) << next.status().ToString();
  EXPECT_EQ((*next)->id, ids[1]);
}

TEST(RedisQueueServerTest, OutageFailsFastAndRecoversWithoutReopening) {
  RedisServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  RedisQueueOptions options = OptionsFor(server, "outage:");
  options.connect_timeout = milliseconds(500);
  options.command_timeout = milliseconds(1000);
  options.reconnect_backoff_max = milliseconds(200);
  std::unique_ptr<JobQueue> queue = OpenOrFail(options);
  ASSERT_NE(queue, nullptr);
  Result<SubmitOutcome> before = queue->Submit(NewJob());
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  server.Stop(/*crash=*/false);
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(queue->Ping().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(queue->Submit(NewJob()).status().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(queue->Get("alice", before->job.id).status().code(), ErrorCode::kUnavailable);
    Result<std::optional<JobRecord>> lease =
        queue->Lease({.worker_id = "w", .lease = std::chrono::seconds(30), .wait = std::chrono::seconds(5)});
    EXPECT_EQ(lease.status().code(), ErrorCode::kUnavailable);
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(1)) << "calls must fail fast while Redis is down";
  }

  ASSERT_TRUE(server.Start()) << server.error();
  // The back-off may still refuse a call or two; then the same queue object works again.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!queue->Ping().ok() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(queue->Ping().ok());
  Result<JobRecord> kept = queue->Get("alice", before->job.id);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->status, JobStatus::kQueued);
  EXPECT_TRUE(queue->Submit(NewJob()).ok());
  Result<std::optional<JobRecord>> leased = queue->Lease({.worker_id = "w", .lease = std::chrono::seconds(30)});
  ASSERT_TRUE(leased.ok() && leased->has_value()) << leased.status().ToString();
  EXPECT_EQ((*leased)->id, before->job.id);
}

TEST(RedisQueueServerTest, OpenFailsWhenNothingListens) {
  RedisQueueOptions options;
  options.port = 1;  // privileged and unused: refused at once
  options.connect_timeout = milliseconds(500);
  Result<std::unique_ptr<JobQueue>> queue = OpenRedisQueue(options);
  EXPECT_EQ(queue.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(queue.status().message().find("127.0.0.1:1"), std::string::npos) << queue.status().message();
}

TEST(RedisQueueServerTest, PasswordProtectedServer) {
  const std::string secret = "s3cret-Pass";
  RedisServer server({.password = secret});
  ASSERT_TRUE(server.ok()) << server.error();
  RedisQueueOptions options = OptionsFor(server, "auth:");
  options.password = secret;
  std::unique_ptr<JobQueue> queue = OpenOrFail(options);
  ASSERT_NE(queue, nullptr);
  Result<SubmitOutcome> out = queue->Submit(NewJob());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(queue->Get("alice", out->job.id).ok());

  // ACL form: AUTH <user> <password>.
  options.username = "default";
  std::unique_ptr<JobQueue> as_user = OpenOrFail(options);
  ASSERT_NE(as_user, nullptr);
  EXPECT_TRUE(as_user->Get("alice", out->job.id).ok());

  options.username.clear();
  options.password = "wrong-password";
  Result<std::unique_ptr<JobQueue>> wrong = OpenRedisQueue(options);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kUsage);
  EXPECT_NE(wrong.status().message().find("AUTH"), std::string::npos) << wrong.status().message();
  EXPECT_NE(wrong.status().message().find("WRONGPASS"), std::string::npos) << wrong.status().message();
  EXPECT_EQ(wrong.status().message().find("wrong-password"), std::string::npos) << "the password leaked";

  options.password.clear();
  Result<std::unique_ptr<JobQueue>> none = OpenRedisQueue(options);
  EXPECT_EQ(none.status().code(), ErrorCode::kUsage);
  EXPECT_NE(none.status().message().find("requires a password"), std::string::npos) << none.status().message();
}

// ParseRedisUrl and DescribeRedis (label unit: no server).
struct UrlCase {
  std::string url;
  std::string host;
  int port;
  int db;
  std::string username;
  std::string password;
};

// The environment is changed only by these single-threaded cases.
TEST(RedisUrl, ParsesEveryPart) {
  unsetenv("FACEFLEET_REDIS_PASSWORD");  // NOLINT(concurrency-mt-unsafe)
  const std::vector<UrlCase> cases = {
      {"redis://localhost:6379/0", "localhost", 6379, 0, "", ""},
      {"redis://cache", "cache", 6379, 0, "", ""},
      {"redis://cache/", "cache", 6379, 0, "", ""},
      {"redis://cache:7000", "cache", 7000, 0, "", ""},
      {"redis://10.0.0.5:6380/15", "10.0.0.5", 6380, 15, "", ""},
      {"redis://:p%40ss%3Aword@host:7000/2", "host", 7000, 2, "", "p@ss:word"},
      {"redis://worker:pw@host/1", "host", 6379, 1, "worker", "pw"},
      {"redis://worker@host", "host", 6379, 0, "worker", ""},
      {"redis://u:a@b@host:1/0", "host", 1, 0, "u", "a@b"},
      {"redis://[::1]:6390/3", "::1", 6390, 3, "", ""},
      {"redis://[::1]", "::1", 6379, 0, "", ""},
  };
  for (const UrlCase& c : cases) {
    Result<RedisQueueOptions> options = ParseRedisUrl(c.url);
    ASSERT_TRUE(options.ok()) << c.url << ": " << options.status().ToString();
    EXPECT_EQ(options->host, c.host) << c.url;
    EXPECT_EQ(options->port, c.port) << c.url;
    EXPECT_EQ(options->db, c.db) << c.url;
    EXPECT_EQ(options->username, c.username) << c.url;
    EXPECT_EQ(options->password, c.password) << c.url;
    EXPECT_EQ(options->prefix, "facefleet:") << c.url;
  }
}

TEST(RedisUrl, RejectsMalformedUrlsWithoutEchoingSecrets) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://host:6379", "redis://"},
      {"rediss://host:6380", "TLS"},
      {"redis://", "host is missing"},
      {"redis://:pw@:6379/0", "host is missing"},
      {"redis://host:0", "port"},
      {"redis://host:99999", "port"},
      {"redis://host:", "port"},
      {"redis://host:hunter2", "port"},
      {"redis://host/db", "database index"},
      {"redis://host/-1", "database index"},
      {"redis://host:6379/0?timeout=1", "query"},
      {"redis://u:p%zz@host", "percent-encoding"},
      {"redis://[::1:6379", "IPv6"},
      {"redis://[::1]x", "':port'"},
  };
  for (const auto& [url, expected] : cases) {
    Result<RedisQueueOptions> options = ParseRedisUrl(url);
    ASSERT_FALSE(options.ok()) << url;
    EXPECT_EQ(options.status().code(), ErrorCode::kUsage) << url;
    EXPECT_NE(options.status().message().find(expected), std::string::npos)
        << url << ": " << options.status().message();
    EXPECT_EQ(options.status().message().find("hunter2"), std::string::npos) << url << ": the secret leaked";
    EXPECT_EQ(options.status().message().find("pw"), std::string::npos) << url << ": the secret leaked";
  }
}

TEST(RedisUrl, PasswordFromTheEnvironmentWhenTheUrlHasNone) {
  setenv("FACEFLEET_REDIS_PASSWORD", "from-env", 1);  // NOLINT(concurrency-mt-unsafe)
  Result<RedisQueueOptions> plain = ParseRedisUrl("redis://host:6379/0");
  Result<RedisQueueOptions> with_user = ParseRedisUrl("redis://svc@host");
  Result<RedisQueueOptions> explicit_password = ParseRedisUrl("redis://:in-url@host");
  unsetenv("FACEFLEET_REDIS_PASSWORD");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_TRUE(plain.ok() && with_user.ok() && explicit_password.ok());
  EXPECT_EQ(plain->password, "from-env");
  EXPECT_EQ(with_user->username, "svc");
  EXPECT_EQ(with_user->password, "from-env");
  EXPECT_EQ(explicit_password->password, "in-url");
}

TEST(RedisUrl, DescribeMasksThePassword) {
  RedisQueueOptions options;
  options.host = "cache";
  options.port = 7000;
  options.db = 2;
  EXPECT_EQ(DescribeRedis(options), "redis://cache:7000/2");
  options.username = "svc";
  options.password = "hunter2";
  EXPECT_EQ(DescribeRedis(options), "redis://svc:***@cache:7000/2");
  options.username.clear();
  options.host = "::1";
  EXPECT_EQ(DescribeRedis(options), "redis://:***@[::1]:7000/2");
}

}  // namespace
}  // namespace facefleet::jobs
