// Scale-out on loopback: "a killed worker or a restarted Redis costs time, never a job".
//
// A real fleet as separate processes: redis-server (AOF, appendfsync everysec), s3rver with one bucket, one API
// process (`facefleet serve --workers 0`) and three `facefleet worker` processes, all on the shared Redis queue and
// S3 storage. While 60 jobs (photos and a few short videos) flow through, workers are SIGKILLed and restarted and
// Redis is stopped and started again; every job must still succeed exactly once, be listed once and have exactly
// one result object. Also: a job whose workers keep dying ends failed in the dead-letter stream, and bad start-up
// conditions (Redis unreachable, a bucket that does not exist) end in clear errors instead of endless retries.
//
// The binary is facefleet_cli, or $FACEFLEET_TEST_CLI. Samples: public-domain photos found at configure time
// (grace_hopper.jpg, US Navy; astronaut.png, NASA). The video target is an MJPEG AVI built in the test from the
// JPEG (cluster_support.cpp), so no media library is linked.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "cluster/cluster_support.hpp"
#include "e2e/serve_process.hpp"
#include "jobs/redis_server.hpp"
#include "storage/s3_storage.hpp"
#include "storage/s3rver.hpp"
#include "support/temp_dir.hpp"

namespace facefleet {
namespace {

using namespace std::chrono_literals;
using storage::testing::S3rver;
using testing::Api;
using testing::CliProcess;
using testing::json;
using testing::ReadFile;
using testing::RedisServer;
using testing::TempDir;
using testing::WaitUntil;
using Clock = std::chrono::steady_clock;

constexpr char kBucket[] = "cluster";
constexpr char kPrefix[] = "ff";
constexpr char kApiMarker[] = "listening on ";
constexpr char kWorkerMarker[] = "health and metrics on ";

std::size_t CountOccurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Milliseconds between two of a job's RFC 3339 fields; nullopt when either is missing.
std::optional<double> MillisBetween(const json& job, const char* from, const char* to) {
  if (!job.contains(from) || !job[from].is_string() || !job.contains(to) || !job[to].is_string()) return std::nullopt;
  const auto a = testing::ParseRfc3339Ms(job[from].get<std::string>());
  const auto b = testing::ParseRfc3339Ms(job[to].get<std::string>());
  if (!a || !b) return std::nullopt;
  return static_cast<double>(*b - *a);
}

// A fleet on loopback: Redis and s3rver per test; API and worker processes started by the test.
class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    // s3rver knows only this key pair; the facefleet processes read it from their (inherited) environment.
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);      // NOLINT(concurrency-mt-unsafe): before any thread starts
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);  // NOLINT(concurrency-mt-unsafe)
    grace_ = ReadFile(FACEFLEET_SAMPLE_GRACE);
    astronaut_ = ReadFile(FACEFLEET_SAMPLE_ASTRONAUT);
    ASSERT_FALSE(grace_.empty()) << FACEFLEET_SAMPLE_GRACE;
    ASSERT_FALSE(astronaut_.empty()) << FACEFLEET_SAMPLE_ASTRONAUT;
    ASSERT_TRUE(redis_.ok()) << redis_.error();
    std::string error;
    s3_ = S3rver::Start(kBucket, error);
    ASSERT_NE(s3_, nullptr) << error;
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& [name, process] : processes_) {
        std::printf("---- %s stderr (tail) ----\n%s\n", name.c_str(), Tail(process->Stderr()).c_str());
      }
    }
    processes_.clear();
    if (s3_) s3_->Resume();
  }

  static std::string Tail(const std::string& text) {
    return text.size() > 3000 ? "..." + text.substr(text.size() - 3000) : text;
  }

  std::string QueueUrl() const { return "redis://127.0.0.1:" + std::to_string(redis_.port()) + "/0"; }
  std::string StorageUrl(const std::string& bucket = kBucket) const {
    return "s3://" + bucket + "/" + kPrefix + "?endpoint=" + s3_->endpoint() + "&region=us-east-1&path_style=1";
  }

  // Starts a process (stdout/stderr in <dir>/<name>.out/.err) and waits for its URL line; nullptr (with a test
  // failure) when it does not come up.
  CliProcess* Start(const std::string& name, const std::vector<std::string>& args, const char* marker) {
    auto process = std::make_unique<CliProcess>();
    std::string error;
    if (!process->Launch(args, dir_.File(name), &error) || !process->WaitForUrl(marker, 60s, &error)) {
      ADD_FAILURE() << name << ": " << error;
      return nullptr;
    }
    processes_.emplace_back(name, std::move(process));
    return processes_.back().second.get();
  }

  // The API tier: no workers, the shared queue and `storage`, no rate limit, room for every job of a test.
  CliProcess* StartApi(const std::string& name, const std::string& storage, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        "serve",  "--workers", "0",          "--queue",       QueueUrl(),     "--storage", storage,
        "--port", "0",         "--data-dir", dir_.File(name), "--rate-limit", "0",         "--max-active-jobs",
        "1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Start(name, args, kApiMarker);
  }

  // One worker process with one job slot and 3 s leases (a killed worker's job is taken over 3 s later).
  CliProcess* StartWorker(const std::string& name, const std::string& storage, const std::string& data_dir) {
    return Start(name,
                 {"worker", "--queue", QueueUrl(), "--storage", storage, "--port", "0", "--lease-seconds", "3",
                  "--data-dir", dir_.File(data_dir), "--workers", "1", "--log-level", "info"},
                 kWorkerMarker);
  }

  // Every process's /readyz answers 200.
  static bool AllReady(const std::vector<CliProcess*>& processes, std::chrono::milliseconds timeout) {
    return WaitUntil(
        [&] {
          return std::all_of(processes.begin(), processes.end(),
                             [](const CliProcess* p) { return testing::HttpStatus(p->port(), "/readyz") == 200; });
        },
        timeout, 100ms);
  }

  // The job's JSON once `done` holds for it (or the last one seen after `timeout`).
  template <typename Pred>
  static json WaitForJob(Api& api, const std::string& id, Pred done, std::chrono::milliseconds timeout) {
    json job;
    WaitUntil(
        [&] {
          const Api::Reply reply = api.Get("/v1/jobs/" + id);
          if (reply.status == 200) job = reply.body;
          return reply.status == 200 && done(job);
        },
        timeout, 20ms);
    return job;
  }

  TempDir dir_;
  RedisServer redis_;
  std::unique_ptr<S3rver> s3_;
  std::string grace_;
  std::string astronaut_;
  std::vector<std::pair<std::string, std::unique_ptr<CliProcess>>> processes_;
};

// Picks the worker to kill: one that is running a job (its /metrics says so) when one is within 2 s, else any.
std::size_t PickVictim(const std::vector<CliProcess*>& workers, std::mt19937& rng, bool& busy) {
  std::vector<std::size_t> candidates;
  WaitUntil(
      [&] {
        candidates.clear();
        for (std::size_t i = 0; i < workers.size(); ++i) {
          std::string metrics;
          if (testing::HttpStatus(workers[i]->port(), "/metrics", &metrics) == 200 &&
              metrics.find("facefleet_workers{state=\"busy\"} 1\n") != std::string::npos) {
            candidates.push_back(i);
          }
        }
        return !candidates.empty();
      },
      2s, 20ms);
  busy = !candidates.empty();
  if (candidates.empty()) {
    for (std::size_t i = 0; i < workers.size(); ++i) candidates.push_back(i);
  }
  return candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(rng)];
}

// The headline: 60 jobs through a fleet losing workers and its Redis; each job succeeds exactly once.
TEST_F(Cluster, KilledWorkersAndARestartedRedisCostTimeNeverAJob) {
  constexpr int kJobs = 60;
  constexpr int kWorkers = 3;
  constexpr auto kSubmitInterval = 300ms;
  // Enough attempts that the three kills can never use up a job's attempts, even if all hit the same job: a lost
  // job would then be a bug, not bad luck.
  CliProcess* api = StartApi("api", StorageUrl(), {"--max-attempts", "5"});
  ASSERT_NE(api, nullptr);
  const std::string key = api->GeneratedKey();
  ASSERT_FALSE(key.empty()) << api->Stdout();
  std::vector<CliProcess*> workers;
  std::vector<CliProcess*> every_worker;  // every incarnation, for the logs
  for (int i = 0; i < kWorkers; ++i) {
    workers.push_back(StartWorker("w" + std::to_string(i), StorageUrl(), "w" + std::to_string(i)));
    ASSERT_NE(workers.back(), nullptr);
    every_worker.push_back(workers.back());
  }
  std::vector<CliProcess*> fleet = workers;
  fleet.push_back(api);
  ASSERT_TRUE(AllReady(fleet, 120s)) << "not every process became ready";

  const char* seed_text = std::getenv("FACEFLEET_CLUSTER_SEED");  // NOLINT(concurrency-mt-unsafe)
  const auto seed = seed_text != nullptr ? static_cast<std::uint32_t>(std::strtoul(seed_text, nullptr, 10))
                                         : static_cast<std::uint32_t>(std::random_device{}());
  std::mt19937 rng(seed);
  std::printf("cluster: seed %u (FACEFLEET_CLUSTER_SEED=N repeats the random choices)\n", seed);
  const std::string video = testing::MjpegAvi(grace_, 8, 8);

  // Submissions run on their own thread at a steady pace, so the faults below happen while jobs arrive and run.
  // A refused or unanswered submission (Redis down) is retried with the same Idempotency-Key: a submission whose
  // answer was lost cannot become two jobs.
  struct Submitted {
    std::string id;
    bool video = false;
  };
  std::vector<Submitted> submitted(kJobs);
  std::atomic<int> submitted_count{0};
  std::atomic<int> resubmits{0};
  std::string submit_error;
  const auto start = Clock::now();
  std::jthread submitter([&](const std::stop_token& stop) {
    Api client(api->port(), key);
    for (int i = 0; i < kJobs && !stop.stop_requested(); ++i) {
      const bool is_video = i % 20 == 7;
      const std::string idempotency_key = "cluster-job-" + std::to_string(i);
      const auto deadline = Clock::now() + 60s;
      for (;;) {
        const Api::Reply reply = is_video ? client.Submit(astronaut_, video, idempotency_key)
                                          : client.Submit(grace_, astronaut_, idempotency_key);
        if ((reply.status == 202 || reply.status == 200) && reply.body.is_object()) {
          submitted[i] = {reply.body.value("id", ""), is_video};
          break;
        }
        const bool transient = reply.status == 0 || reply.status == 429 || reply.status >= 500;
        if (!transient || Clock::now() > deadline || stop.stop_requested()) {
          submit_error = "job " + std::to_string(i) + ": HTTP " + std::to_string(reply.status) + " " + reply.raw +
                         reply.transport_error;
          submitted_count.store(kJobs);
          return;
        }
        ++resubmits;
        std::this_thread::sleep_for(200ms);
      }
      submitted_count.store(i + 1);
      std::this_thread::sleep_for(kSubmitInterval);
    }
  });

  // The faults, on the main thread (worker processes and redis-server die with the thread that started them),
  // spread over the run by how many jobs have been submitted.
  struct Fault {
    int after_submitted;
    bool redis;
  };
  int kills = 0;
  int busy_kills = 0;
  for (const Fault fault : {Fault{8, false}, Fault{22, false}, Fault{34, true}, Fault{46, false}}) {
    ASSERT_TRUE(WaitUntil([&] { return submitted_count.load() >= fault.after_submitted; }, 120s));
    if (fault.redis) {
      // A clean stop (SIGTERM: Redis writes its AOF) and a start on the same port and directory. The outage is
      // shorter than a lease; the API and workers must reconnect by themselves.
      redis_.Stop(/*crash=*/false);
      std::printf("cluster: t=%.1fs Redis stopped\n", SecondsSince(start));
      std::this_thread::sleep_for(1500ms);
      ASSERT_TRUE(redis_.Start()) << redis_.error();
      std::printf("cluster: t=%.1fs Redis started again (AOF reloaded)\n", SecondsSince(start));
      continue;
    }
    bool busy = false;
    const std::size_t victim = PickVictim(workers, rng, busy);
    workers[victim]->Signal(SIGKILL);
    EXPECT_EQ(workers[victim]->Wait(10s), 128 + SIGKILL);
    ++kills;
    busy_kills += busy ? 1 : 0;
    std::printf("cluster: t=%.1fs SIGKILLed worker %zu (%s)\n", SecondsSince(start), victim,
                busy ? "running a job" : "idle");
    const std::string name = "w" + std::to_string(victim) + "." + std::to_string(kills);
    workers[victim] = StartWorker(name, StorageUrl(), "w" + std::to_string(victim));
    ASSERT_NE(workers[victim], nullptr);
    every_worker.push_back(workers[victim]);
  }
  submitter.join();
  ASSERT_EQ(submit_error, "");
  std::set<std::string> ids;
  for (const Submitted& job : submitted) ids.insert(job.id);
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(kJobs)) << "a submission returned an id twice";

  // Every job finished (at most ~4 minutes on a loaded 2-core machine).
  Api api_client(api->port(), key);
  std::vector<json> listed;
  const bool finished = WaitUntil(
      [&] {
        auto all = api_client.ListAll(100);
        if (!all) return false;
        listed = std::move(*all);
        std::size_t done = 0;
        for (const json& job : listed) {
          const std::string status = job.value("status", "");
          done += ids.contains(job.value("id", "")) && (status == "succeeded" || status == "failed") ? 1 : 0;
        }
        return done == ids.size();
      },
      240s, 250ms);
  const double wall_s = SecondsSince(start);
  ASSERT_TRUE(finished) << "jobs still unfinished after 240 s";

  // Listed exactly once each, through small pages (the cursor crosses pages), all succeeded.
  const auto paged = api_client.ListAll(7);
  ASSERT_TRUE(paged.has_value());
  std::map<std::string, int> times_listed;
  std::vector<double> dispatch_ms;
  std::vector<double> first_attempt_dispatch_ms;
  std::int64_t first_created = INT64_MAX;
  std::int64_t last_finished = 0;
  int retried = 0;
  for (const json& job : *paged) {
    const std::string id = job.value("id", "");
    ++times_listed[id];
    EXPECT_EQ(job.value("status", ""), "succeeded") << job.dump();
    if (const auto ms = MillisBetween(job, "created_at", "started_at")) {
      dispatch_ms.push_back(*ms);
      if (job.value("attempts", 0) == 1) first_attempt_dispatch_ms.push_back(*ms);
    }
    retried += job.value("attempts", 0) > 1 ? 1 : 0;
    first_created = std::min(first_created, testing::ParseRfc3339Ms(job.value("created_at", "")).value_or(INT64_MAX));
    if (job["finished_at"].is_string()) {
      last_finished =
          std::max(last_finished, testing::ParseRfc3339Ms(job["finished_at"].get<std::string>()).value_or(0));
    }
  }
  EXPECT_EQ(paged->size(), ids.size());
  for (const std::string& id : ids) EXPECT_EQ(times_listed[id], 1) << id;

  // One result object per job in the bucket: through the S3 API (ListObjectsV2) and in s3rver's directory.
  storage::S3Options s3;
  s3.bucket = kBucket;
  s3.prefix = kPrefix;
  s3.endpoint = s3_->endpoint();
  s3.path_style = true;
  s3.access_key_id = "S3RVER";
  s3.secret_access_key = "S3RVER";
  auto bucket = storage::OpenS3Storage(s3);
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  auto objects = (*bucket)->List("jobs/");
  ASSERT_TRUE(objects.ok()) << objects.status().ToString();
  const std::regex result_key(R"(jobs/([a-z2-7]{26})/result\.(png|mp4))");
  std::map<std::string, int> results;
  for (const auto& object : *objects) {
    std::smatch match;
    if (std::regex_match(object.key, match, result_key)) ++results[match[1].str()];
  }
  EXPECT_EQ(results.size(), ids.size()) << "result objects for other ids, or missing ones";
  for (const std::string& id : ids) EXPECT_EQ(results[id], 1) << id;
  std::map<std::string, int> result_files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(s3_->data_dir())) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("result.", 0) == 0 && file.ends_with("._S3rver_object")) {
      ++result_files[entry.path().parent_path().filename().string()];
    }
  }
  for (const std::string& id : ids) EXPECT_EQ(result_files[id], 1) << id << " in " << s3_->data_dir();

  // Each result downloads through the API: photos as 512x512 PNGs, videos as MP4.
  for (const Submitted& job : submitted) {
    const auto result = api_client.Download(job.id);
    ASSERT_TRUE(result) << job.id << ": " << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200) << job.id;
    if (job.video) {
      EXPECT_EQ(result->get_header_value("Content-Type"), "video/mp4") << job.id;
      EXPECT_EQ(result->body.substr(4, 4), "ftyp") << job.id;
    } else {
      EXPECT_EQ(result->get_header_value("Content-Type"), "image/png") << job.id;
      EXPECT_TRUE(testing::IsPng(result->body, 512, 512)) << job.id;
    }
  }

  // result_url is a presigned S3 URL: it serves the same result straight from the bucket.
  const auto first = std::find_if(paged->begin(), paged->end(),
                                  [&](const json& job) { return job.value("id", "") == submitted[0].id; });
  ASSERT_NE(first, paged->end());
  const std::string url = first->value("result_url", "");
  ASSERT_EQ(url.rfind(s3_->endpoint() + "/" + kBucket + "/", 0), 0U) << first->dump();
  httplib::Client direct(s3_->endpoint());
  direct.set_url_encode(false);  // already signed as it is
  const auto presigned = direct.Get(url.substr(s3_->endpoint().size()).c_str());
  ASSERT_TRUE(presigned) << httplib::to_string(presigned.error());
  EXPECT_EQ(presigned->status, 200) << presigned->body;
  EXPECT_TRUE(testing::IsPng(presigned->body, 512, 512));

  // Completed once: no job has two "succeeded by" lines across every worker incarnation's log.
  std::string logs;
  for (const CliProcess* worker : every_worker) logs += worker->Stderr();
  for (const std::string& id : ids) EXPECT_LE(CountOccurrences(logs, "job " + id + " succeeded by"), 1U) << id;
  // A job finished while Redis was down keeps its result (the worker retries completing it): re-runs come from
  // the kills only.
  EXPECT_EQ(CountOccurrences(logs, "completion refused: unavailable"), 0U) << "a finished job was thrown away";
  // The restarted workers and the API came back: all ready again after the faults.
  fleet = workers;
  fleet.push_back(api);
  EXPECT_TRUE(AllReady(fleet, 60s));

  const double p50 = testing::Percentile(dispatch_ms, 50);
  const double p99 = testing::Percentile(dispatch_ms, 99);
  std::printf(
      "cluster: %d jobs (%d videos) on %d workers: %d SIGKILLs (%d while running a job), 1 Redis restart, "
      "%d submissions retried, %d jobs re-run\n",
      kJobs, static_cast<int>(std::count_if(submitted.begin(), submitted.end(), [](auto& s) { return s.video; })),
      kWorkers, kills, busy_kills, resubmits.load(), retried);
  std::printf(
      "cluster: dispatch latency (started_at - created_at): p50 %.0f ms, p99 %.0f ms over %zu jobs; "
      "first-attempt jobs only: p50 %.0f ms, p99 %.0f ms\n",
      p50, p99, dispatch_ms.size(), testing::Percentile(first_attempt_dispatch_ms, 50),
      testing::Percentile(first_attempt_dispatch_ms, 99));
  std::printf("cluster: worker logs: %zu 'lease lost', %zu 'completion refused', %zu 'lease failed' lines\n",
              CountOccurrences(logs, "lease lost"), CountOccurrences(logs, "completion refused"),
              CountOccurrences(logs, "lease failed"));
  for (std::size_t at = logs.find("completion refused"); at != std::string::npos;
       at = logs.find("completion refused", at + 1)) {
    std::printf("cluster:   %s\n", logs.substr(at, logs.find('\n', at) - at).c_str());
  }
  std::printf("cluster: wall time %.1f s (first submit to every job finished); jobs' own span %.1f s\n", wall_s,
              static_cast<double>(last_finished - first_created) / 1000.0);
  RecordProperty("dispatch_p50_ms", static_cast<int>(p50));
  RecordProperty("dispatch_p99_ms", static_cast<int>(p99));
  RecordProperty("wall_ms", static_cast<int>(wall_s * 1000));
  RecordProperty("jobs_rerun", retried);
}

// A job whose workers keep dying ends failed after its attempts and lands in the dead-letter stream.
//
// Deterministic without a crafted input: s3rver is frozen (SIGSTOP), so a worker that leases the job blocks reading
// its inputs, holding the job and heartbeating, until the test SIGKILLs it. With --max-attempts 2 the second worker
// killed this way uses the last attempt; the third worker's lease call retires the job once that lease lapses.
TEST_F(Cluster, AJobWhoseWorkersKeepDyingEndsFailedInTheDeadLetterStream) {
  CliProcess* api = StartApi("api", StorageUrl(), {"--max-attempts", "2"});
  ASSERT_NE(api, nullptr);
  Api client(api->port(), api->GeneratedKey());
  const Api::Reply submitted = client.Submit(grace_, astronaut_);
  ASSERT_EQ(submitted.status, 202) << submitted.raw << submitted.transport_error;
  const std::string id = submitted.body.value("id", "");
  s3_->Pause();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    CliProcess* worker = StartWorker("dying" + std::to_string(attempt), StorageUrl(), "dying");
    ASSERT_NE(worker, nullptr);
    const json job = WaitForJob(
        client, id,
        [&](const json& j) { return j.value("status", "") == "running" && j.value("attempts", 0) == attempt; }, 60s);
    ASSERT_EQ(job.value("status", ""), "running") << job.dump();
    ASSERT_EQ(job.value("attempts", 0), attempt) << job.dump();
    worker->Signal(SIGKILL);
    EXPECT_EQ(worker->Wait(10s), 128 + SIGKILL);
  }
  ASSERT_NE(StartWorker("reaper", StorageUrl(), "reaper"), nullptr);
  const json job = WaitForJob(
      client, id, [](const json& j) { return j.value("status", "") == "failed"; }, 60s);
  ASSERT_EQ(job.value("status", ""), "failed") << job.dump();
  EXPECT_EQ(job.value("attempts", 0), 2) << job.dump();
  EXPECT_EQ(job["error"].value("code", ""), "internal") << job.dump();
  EXPECT_NE(job["error"].value("message", "").find("no attempts left"), std::string::npos) << job.dump();

  // XRANGE facefleet:dead - + (flattened: entry id, then field, value, ...).
  const std::vector<std::string> dead = redis_.Query({"XRANGE", "facefleet:dead", "-", "+"});
  const auto at = std::find(dead.begin(), dead.end(), id);
  ASSERT_NE(at, dead.end()) << "job " << id << " is not in facefleet:dead";
  std::map<std::string, std::string> fields;
  for (auto it = at - 1; it + 1 < dead.end(); it += 2) fields.emplace(*it, *(it + 1));
  EXPECT_EQ(fields["attempts"], "2");
  EXPECT_EQ(fields["error_code"], "internal");
  EXPECT_EQ(std::count(dead.begin(), dead.end(), "id"), 1) << "one dead letter expected";
  s3_->Resume();
  std::string metrics;
  EXPECT_EQ(testing::HttpStatus(api->port(), "/metrics", &metrics), 200);
  EXPECT_NE(metrics.find("\nfacefleet_dead_letter_jobs 1\n"), std::string::npos) << metrics;
  std::printf("cluster: dead letter after 2 killed attempts: %s\n", job["error"].dump().c_str());
}

// Redis not there at start: the worker keeps retrying for --connect-timeout, then exits 13 (unavailable).
TEST(ClusterStartup, WorkerRetriesAnUnreachableRedisThenExitsUnavailable) {
  TempDir dir;
  const auto start = Clock::now();
  const testing::CliResult run = testing::RunCli(
      {"worker", "--queue", "redis://127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort()) + "/0", "--storage",
       "file:" + dir.File("objects"), "--data-dir", dir.File("data"), "--port", "0", "--connect-timeout", "3"},
      60s);
  const double elapsed = SecondsSince(start);
  EXPECT_EQ(run.exit_code, 13) << run.err;
  EXPECT_GE(CountOccurrences(run.err, "not reachable yet"), 2U) << run.err;
  EXPECT_NE(run.err.find("unavailable"), std::string::npos) << run.err;
  // It retries for the whole --connect-timeout (not just until the next back-off would overshoot it)...
  EXPECT_GE(elapsed, 2.8) << run.err;
  // ...and then gives up.
  EXPECT_LT(elapsed, 15.0) << run.err;
}

// Redis coming up within --connect-timeout: the waiting worker connects and becomes ready.
TEST_F(Cluster, WorkerStartedBeforeRedisConnectsOnceItIsUp) {
  redis_.Stop(/*crash=*/false);
  auto worker = std::make_unique<CliProcess>();
  std::string error;
  ASSERT_TRUE(worker->Launch({"worker", "--queue", QueueUrl(), "--storage", StorageUrl(), "--port", "0", "--data-dir",
                              dir_.File("late"), "--connect-timeout", "60"},
                             dir_.File("late"), &error))
      << error;
  ASSERT_TRUE(WaitUntil([&] { return worker->Stderr().find("not reachable yet") != std::string::npos; }, 30s))
      << worker->Stderr();
  ASSERT_TRUE(redis_.Start()) << redis_.error();
  ASSERT_TRUE(worker->WaitForUrl(kWorkerMarker, 60s, &error)) << error;
  EXPECT_TRUE(AllReady({worker.get()}, 60s)) << worker->Stderr();
  processes_.emplace_back("late", std::move(worker));
}

// A bucket that does not exist: the API refuses submissions with 5xx naming it; a worker configured with it fails
// the job after its attempts with the reason, instead of retrying forever.
TEST_F(Cluster, AWrongBucketIsNamedAndNotRetriedForever) {
  const std::string missing = "no-such-bucket";
  CliProcess* wrong_api = StartApi("api-wrong", StorageUrl(missing), {});
  ASSERT_NE(wrong_api, nullptr);
  // The API keys live in Redis: the second API process below finds this one and creates none.
  const std::string key = wrong_api->GeneratedKey();
  ASSERT_FALSE(key.empty()) << wrong_api->Stdout();
  Api wrong_client(wrong_api->port(), key);
  const Api::Reply refused = wrong_client.Submit(grace_, astronaut_);
  EXPECT_GE(refused.status, 500) << refused.raw << refused.transport_error;
  EXPECT_NE(refused.raw.find("'" + missing + "'"), std::string::npos) << refused.raw;
  std::string readyz;
  EXPECT_EQ(testing::HttpStatus(wrong_api->port(), "/readyz", &readyz), 503);
  EXPECT_NE(readyz.find(missing), std::string::npos) << readyz;

  CliProcess* api = StartApi("api", StorageUrl(), {"--max-attempts", "2"});
  ASSERT_NE(api, nullptr);
  CliProcess* worker = StartWorker("w-wrong", StorageUrl(missing), "w-wrong");
  ASSERT_NE(worker, nullptr);
  Api client(api->port(), key);
  const Api::Reply submitted = client.Submit(grace_, astronaut_);
  ASSERT_EQ(submitted.status, 202) << submitted.raw << submitted.transport_error;
  const std::string id = submitted.body.value("id", "");
  json job = WaitForJob(
      client, id, [](const json& j) { return j.value("status", "") == "failed"; }, 60s);
  ASSERT_EQ(job.value("status", ""), "failed") << job.dump();
  EXPECT_EQ(job.value("attempts", 0), 2) << job.dump();
  EXPECT_NE(job["error"].value("message", "").find("'" + missing + "'"), std::string::npos) << job.dump();
  // Finished for good: a few seconds later nobody has picked it up again.
  std::this_thread::sleep_for(3s);
  job = client.Get("/v1/jobs/" + id).body;
  EXPECT_EQ(job.value("status", ""), "failed") << job.dump();
  EXPECT_EQ(job.value("attempts", 0), 2) << job.dump();
  std::printf("cluster: wrong bucket: %s\n", job["error"].dump().c_str());
}

// Two API replicas on one Redis: API keys and rate limits belong to the fleet, not to a replica. Only the first
// replica creates a key; a key made with `facefleet keys --queue redis://...` works on both and its revocation
// reaches both; a burst spent through one replica is spent for the other.
TEST_F(Cluster, ApiReplicasShareKeysAndRateLimits) {
  const std::vector<std::string> limits = {"--rate-limit", "0.01", "--rate-burst", "4"};
  CliProcess* first = StartApi("api-1", StorageUrl(), limits);
  ASSERT_NE(first, nullptr);
  CliProcess* second = StartApi("api-2", StorageUrl(), limits);
  ASSERT_NE(second, nullptr);
  const std::string generated = first->GeneratedKey();
  ASSERT_FALSE(generated.empty()) << first->Stdout();
  EXPECT_EQ(second->GeneratedKey(), "") << "the second replica must find the first one's key";
  EXPECT_EQ(Api(second->port(), generated).Get("/v1/jobs").status, 200);

  const testing::CliResult created =
      testing::RunCli({"keys", "create", "--queue", QueueUrl(), "--data-dir", dir_.File("cli"), "--name", "shared"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_GT(created.out.size(), 16U) << created.out;
  const std::string key = created.out.substr(0, created.out.find('\n'));
  const std::string id = key.substr(3, 12);
  Api one(first->port(), key);
  Api two(second->port(), key);
  std::vector<int> statuses;
  for (int i = 0; i < 3; ++i) {
    statuses.push_back(one.Get("/v1/jobs").status);
    statuses.push_back(two.Get("/v1/jobs").status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 200, 429, 429})) << "a burst of 4 for the whole API tier";
  EXPECT_EQ(Api(second->port(), generated).Get("/v1/jobs").status, 200) << "buckets are per key";

  const testing::CliResult revoked =
      testing::RunCli({"keys", "revoke", "--queue", QueueUrl(), "--data-dir", dir_.File("cli"), "--id", id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  // Each replica caches a verified key for up to 5 s.
  EXPECT_TRUE(
      WaitUntil([&] { return one.Get("/v1/jobs").status == 401 && two.Get("/v1/jobs").status == 401; }, 10s, 200ms));
  const testing::CliResult listed =
      testing::RunCli({"keys", "list", "--queue", QueueUrl(), "--data-dir", dir_.File("cli")});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(std::regex_search(listed.out, std::regex(id + " +shared .*revoked"))) << listed.out;
  EXPECT_TRUE(std::regex_search(listed.out, std::regex("default .*active"))) << listed.out;
}

}  // namespace
}  // namespace facefleet
