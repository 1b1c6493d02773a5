// `facefleet serve` and `facefleet keys` as processes, driven over HTTP like a client would: crash safety
// (SIGKILL mid-job, restart, every job done exactly once), drain on SIGTERM, drain timeout, API keys, the
// loopback-only fallback, unloading idle models and flag errors. The binary comes from FACEFLEET_CLI_PATH or
// $FACEFLEET_TEST_CLI; the samples are public-domain photos found at configure time.
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "e2e/serve_process.hpp"
#include "support/temp_dir.hpp"

namespace facefleet {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::CliResult;
using testing::RunCli;
using testing::ServeProcess;
using testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Polls `done` every `interval` until it holds or `timeout` passes; returns its last value.
template <typename Pred>
bool WaitUntil(Pred done, std::chrono::milliseconds timeout, std::chrono::milliseconds interval = 50ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

std::size_t CountOccurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// Big-endian 32-bit integer at `at`.
std::uint32_t Be32(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = (value << 8U) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

// A PNG signature followed by an IHDR chunk of the given size.
::testing::AssertionResult IsPng(const std::string& bytes, std::uint32_t width, std::uint32_t height) {
  if (bytes.size() < 33) return ::testing::AssertionFailure() << "only " << bytes.size() << " bytes";
  if (bytes.compare(0, 8, "\x89PNG\r\n\x1A\n") != 0) return ::testing::AssertionFailure() << "no PNG signature";
  if (bytes.compare(12, 4, "IHDR") != 0) return ::testing::AssertionFailure() << "first chunk is not IHDR";
  if (Be32(bytes, 16) != width || Be32(bytes, 20) != height) {
    return ::testing::AssertionFailure() << "PNG is " << Be32(bytes, 16) << "x" << Be32(bytes, 20);
  }
  return ::testing::AssertionSuccess();
}

// True when no process holds the write lock of the SQLite database at `path` (a frozen holder would block
// every other writer until it resumes).
bool SqliteWritable(const std::string& path) {
  sqlite3* db = nullptr;
  bool writable = false;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 0);
    writable = sqlite3_exec(db, "BEGIN IMMEDIATE; ROLLBACK;", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  sqlite3_close(db);
  return writable;
}

// A small client of one server's API.
class Api {
 public:
  struct Reply {
    int status = 0;  // 0: no HTTP response (connection refused or reset)
    json body;
    std::string raw;
    std::string transport_error;
  };

  Api(int port, std::string key) : client_("127.0.0.1", port), key_(std::move(key)) {
    client_.set_connection_timeout(5, 0);
    client_.set_read_timeout(60, 0);
    client_.set_write_timeout(60, 0);
  }

  Reply Get(const std::string& path, bool authenticated = true) {
    return Wrap(authenticated ? client_.Get(path.c_str(), Auth()) : client_.Get(path.c_str()));
  }

  Reply Submit(const std::string& source, const std::string& target, const std::string& options = "{}") {
    const httplib::MultipartFormDataItems items = {{"source", source, "source.jpg", "image/jpeg"},
                                                   {"target", target, "target.png", "image/png"},
                                                   {"options", options, "", "application/json"}};
    return Wrap(client_.Post("/v1/jobs", Auth(), items));
  }

  // Submits and returns the new job's id; "" (with a test failure) unless the server answered 202.
  std::string SubmitOk(const std::string& source, const std::string& target, const std::string& options = "{}") {
    const Reply reply = Submit(source, target, options);
    EXPECT_EQ(reply.status, 202) << reply.raw << reply.transport_error;
    return reply.status == 202 ? reply.body.value("id", "") : "";
  }

  // Every job of this key, paging through next_cursor `page_size` at a time; nullopt on an error.
  std::optional<std::vector<json>> ListAll(int page_size = 100) {
    std::vector<json> jobs;
    std::string cursor;
    for (int pages = 0; pages < 1000; ++pages) {
      std::string path = "/v1/jobs?limit=" + std::to_string(page_size);
      if (!cursor.empty()) path += "&cursor=" + httplib::detail::encode_query_param(cursor);
      const Reply reply = Get(path);
      if (reply.status != 200 || !reply.body.contains("jobs")) return std::nullopt;
      for (const auto& job : reply.body["jobs"]) jobs.push_back(job);
      if (!reply.body["next_cursor"].is_string()) return jobs;
      cursor = reply.body["next_cursor"].get<std::string>();
    }
    return std::nullopt;
  }

  // id -> status of every job of this key (empty on an error).
  std::map<std::string, std::string> Statuses() {
    std::map<std::string, std::string> statuses;
    if (auto jobs = ListAll()) {
      for (const auto& job : *jobs) statuses[job.value("id", "")] = job.value("status", "");
    }
    return statuses;
  }

  std::string JobStatus(const std::string& id) {
    const Reply reply = Get("/v1/jobs/" + id);
    return reply.status == 200 ? reply.body.value("status", "") : "";
  }

  // Waits until every job in `ids` has `status`; a job that ends otherwise (failed, canceled) ends the wait.
  bool WaitAll(const std::vector<std::string>& ids, const std::string& status, std::chrono::milliseconds timeout) {
    bool all = false;
    WaitUntil(
        [&] {
          const auto statuses = Statuses();
          all = true;
          for (const auto& id : ids) {
            const auto it = statuses.find(id);
            const std::string now = it == statuses.end() ? "" : it->second;
            if (now != status && (now == "failed" || now == "canceled")) return true;
            all = all && now == status;
          }
          return all;
        },
        timeout, 100ms);
    return all;
  }

  httplib::Result Download(const std::string& id) {
    return client_.Get(("/v1/jobs/" + id + "/result").c_str(), Auth());
  }

 private:
  httplib::Headers Auth() const { return {{"Authorization", "Bearer " + key_}}; }

  static Reply Wrap(const httplib::Result& result) {
    Reply reply;
    if (!result) {
      reply.transport_error = httplib::to_string(result.error());
      return reply;
    }
    reply.status = result->status;
    reply.raw = result->body;
    reply.body = json::parse(result->body, nullptr, false);
    return reply;
  }

  httplib::Client client_;
  std::string key_;
};

std::size_t CountStatus(const std::map<std::string, std::string>& statuses, const std::string& status) {
  return static_cast<std::size_t>(
      std::count_if(statuses.begin(), statuses.end(), [&](const auto& entry) { return entry.second == status; }));
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grace_ = ReadFile(FACEFLEET_SAMPLE_GRACE);
    astronaut_ = ReadFile(FACEFLEET_SAMPLE_ASTRONAUT);
    ASSERT_FALSE(grace_.empty()) << FACEFLEET_SAMPLE_GRACE;
    ASSERT_FALSE(astronaut_.empty()) << FACEFLEET_SAMPLE_ASTRONAUT;
  }

  void TearDown() override {
    for (auto& server : servers_) server->Kill();
  }

  // Starts `facefleet serve` on data_ with the flags every test wants plus `extra`, stderr into `log`: no rate
  // limit and room for more than the default 16 active jobs per key (the crash test queues 20).
  // Returns nullptr (with a test failure) when it does not start.
  ServeProcess* Serve(const std::vector<std::string>& extra, const std::string& log) {
    std::vector<std::string> args = {"--data-dir",        data_, "--port", "0", "--rate-limit", "0",
                                     "--max-active-jobs", "100"};
    args.insert(args.end(), extra.begin(), extra.end());
    servers_.push_back(std::make_unique<ServeProcess>());
    std::string error;
    if (!servers_.back()->Start(args, dir_.File(log), &error)) {
      ADD_FAILURE() << error;
      return nullptr;
    }
    return servers_.back().get();
  }

  // The first server on a fresh data dir prints the key it created; later ones print none.
  ServeProcess* ServeFirst(const std::vector<std::string>& extra, const std::string& log) {
    ServeProcess* server = Serve(extra, log);
    if (server != nullptr) {
      key_ = server->GeneratedKey();
      EXPECT_FALSE(key_.empty()) << server->stdout_text();
    }
    return server;
  }

  // Sends `signal` and waits for the exit status (nullopt after `timeout`).
  static std::optional<int> Stop(ServeProcess& server, int signal, std::chrono::milliseconds timeout) {
    server.Signal(signal);
    return server.Wait(timeout);
  }

  TempDir dir_;
  const std::string data_ = dir_.File("data");
  std::string key_;
  std::string grace_;
  std::string astronaut_;
  std::vector<std::unique_ptr<ServeProcess>> servers_;
};

// The headline guarantee: SIGKILL while a job runs loses nothing and completes nothing twice.
TEST_F(ServeTest, SigkillMidJobLosesNothingAndCompletesEachJobOnce) {
  constexpr int kJobs = 20;
  const std::vector<std::string> flags = {"--workers", "1", "--lease-seconds", "2", "--log-level", "info"};
  ServeProcess* first = ServeFirst(flags, "first.log");
  ASSERT_NE(first, nullptr);
  std::vector<std::string> ids;
  {
    Api api(first->port(), key_);
    for (int i = 0; i < kJobs; ++i) {
      const std::string id = api.SubmitOk(grace_, astronaut_);
      ASSERT_FALSE(id.empty());
      ids.push_back(id);
    }
    std::map<std::string, std::string> seen;
    ASSERT_TRUE(WaitUntil(
        [&] {
          seen = api.Statuses();
          return CountStatus(seen, "succeeded") >= 2 && CountStatus(seen, "running") >= 1;
        },
        90s, 20ms))
        << "never saw 2 jobs succeeded and one running; succeeded " << CountStatus(seen, "succeeded");
  }
  EXPECT_EQ(Stop(*first, SIGKILL, 10s), 128 + SIGKILL);

  ServeProcess* second = Serve(flags, "second.log");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->GeneratedKey(), "") << "a key already existed";
  Api api(second->port(), key_);
  EXPECT_TRUE(api.WaitAll(ids, "succeeded", 90s)) << second->Stderr();

  // Listed exactly once each (small pages: the cursor is exercised), all succeeded, nothing else.
  const auto listed = api.ListAll(7);
  ASSERT_TRUE(listed.has_value());
  std::map<std::string, int> times_listed;
  int rerun = 0;  // jobs the second process re-ran after the first one's lease lapsed
  for (const auto& job : *listed) {
    ++times_listed[job.value("id", "")];
    EXPECT_EQ(job.value("status", ""), "succeeded") << job.dump();
    rerun += job.value("attempts", 0) > 1 ? 1 : 0;
  }
  RecordProperty("jobs_rerun_after_kill", rerun);
  EXPECT_EQ(listed->size(), static_cast<std::size_t>(kJobs));
  for (const auto& id : ids) EXPECT_EQ(times_listed[id], 1) << id;

  for (const auto& id : ids) {
    const auto result = api.Download(id);
    ASSERT_TRUE(result) << id << ": " << httplib::to_string(result.error());
    EXPECT_EQ(result->status, 200) << id;
    EXPECT_EQ(result->get_header_value("Content-Type"), "image/png") << id;
    EXPECT_TRUE(IsPng(result->body, 512, 512)) << id;
  }

  // Exactly-once completion: across both runs, at most one "succeeded by" line per job.
  const std::string logs = first->Stderr() + second->Stderr();
  for (const auto& id : ids) EXPECT_LE(CountOccurrences(logs, "job " + id + " succeeded by"), 1U) << id << "\n" << logs;
  EXPECT_EQ(api.Get("/readyz", false).status, 200);
}

// Exactly once with a live loser: a server frozen (SIGSTOP) past its lease while a second server on the same
// data dir takes its job over; thawed, it must not complete the job a second time.
TEST_F(ServeTest, FrozenServerLosesItsLeaseAndCannotCompleteTheJobAgain) {
  const std::vector<std::string> flags = {"--workers", "1", "--lease-seconds", "2", "--log-level", "info"};
  ServeProcess* frozen = ServeFirst(flags, "frozen.log");
  ASSERT_NE(frozen, nullptr);
  std::string id;
  {
    Api api(frozen->port(), key_);
    id = api.SubmitOk(grace_, astronaut_, R"({"classic_blend":"poisson"})");
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(WaitUntil([&] { return api.JobStatus(id) != "queued"; }, 60s, 5ms));
  }
  // Freeze it, but never while it holds the queue's write lock (that would stall the other server, not test it).
  bool frozen_cleanly = false;
  for (int attempt = 0; attempt < 100 && !frozen_cleanly; ++attempt) {
    frozen->Signal(SIGSTOP);
    frozen_cleanly = SqliteWritable(data_ + "/jobs.db");
    if (!frozen_cleanly) {
      frozen->Signal(SIGCONT);
      std::this_thread::sleep_for(10ms);
    }
  }
  ASSERT_TRUE(frozen_cleanly) << "the first server always held the queue's write lock";

  ServeProcess* taker = Serve(flags, "taker.log");
  ASSERT_NE(taker, nullptr);
  Api api(taker->port(), key_);
  EXPECT_TRUE(api.WaitAll({id}, "succeeded", 60s)) << taker->Stderr();
  const Api::Reply job = api.Get("/v1/jobs/" + id);
  const bool taken_over = job.body.value("attempts", 0) == 2;
  RecordProperty("taken_over", taken_over ? "yes" : "no");  // "no": it had finished before the freeze

  frozen->Signal(SIGCONT);
  if (taken_over) {
    // The thawed worker learns it lost the lease (heartbeat or refused completion) and drops its result.
    EXPECT_TRUE(WaitUntil([&] { return frozen->Stderr().find("job " + id + ": ") != std::string::npos; }, 30s))
        << frozen->Stderr();
    EXPECT_NE(taker->Stderr().find("job " + id + " succeeded by"), std::string::npos) << taker->Stderr();
  }
  EXPECT_EQ(Stop(*frozen, SIGTERM, 30s), 0) << frozen->Stderr();
  const std::string logs = frozen->Stderr() + taker->Stderr();
  EXPECT_EQ(CountOccurrences(logs, "job " + id + " succeeded by"), 1U) << logs;
  EXPECT_EQ(api.JobStatus(id), "succeeded");
  const auto result = api.Download(id);
  ASSERT_TRUE(result);
  EXPECT_TRUE(IsPng(result->body, 512, 512));
}

// SIGTERM: no new jobs (503), the running job finishes, queued jobs stay queued for the next process.
TEST_F(ServeTest, SigtermDrainsTheRunningJobAndKeepsQueuedOnes) {
  ServeProcess* first = ServeFirst({"--workers", "1", "--drain-timeout", "30", "--log-level", "info"}, "first.log");
  ASSERT_NE(first, nullptr);
  std::vector<std::string> ids;
  std::string running;
  {
    Api api(first->port(), key_);
    for (int i = 0; i < 3; ++i) {
      ids.push_back(api.SubmitOk(grace_, astronaut_));
      ASSERT_FALSE(ids.back().empty());
    }
    ASSERT_TRUE(WaitUntil(
        [&] {
          for (const auto& [id, status] : api.Statuses()) {
            if (status == "running") running = id;
          }
          return !running.empty();
        },
        60s, 10ms));
    first->Signal(SIGTERM);
    // While draining (readiness says so), a submission is refused with 503. The window lasts as long as the
    // running job; when the process is already gone there is nothing to observe.
    bool observed = false;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      const Api::Reply ready = api.Get("/readyz", false);
      if (ready.status == 0) break;
      if (ready.status == 503 && ready.body.is_object() && ready.body["checks"].value("draining", "ok") != "ok") {
        const Api::Reply refused = api.Submit("BM tiny", "BM tiny");
        if (refused.status != 0) {
          observed = true;
          EXPECT_EQ(refused.status, 503) << refused.raw;
          EXPECT_EQ(refused.body["error"].value("code", ""), "unavailable") << refused.raw;
        }
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    RecordProperty("refusal_while_draining_observed", observed ? "yes" : "no");
  }
  EXPECT_EQ(first->Wait(35s), 0) << first->Stderr();
  EXPECT_NE(first->Stderr().find("received SIGTERM"), std::string::npos) << first->Stderr();

  // An API-only server shows what the drained process left: the running job finished, the others queued.
  ServeProcess* inspector = Serve({"--workers", "0"}, "inspect.log");
  ASSERT_NE(inspector, nullptr);
  {
    Api api(inspector->port(), key_);
    const auto statuses = api.Statuses();
    ASSERT_EQ(statuses.size(), ids.size());
    EXPECT_EQ(statuses.at(running), "succeeded") << "the running job was not finished during the drain";
    for (const auto& [id, status] : statuses) {
      EXPECT_TRUE(status == "succeeded" || status == "queued") << id << " is " << status;
    }
    EXPECT_GE(CountStatus(statuses, "queued"), 1U) << "the drain started queued jobs";
  }
  EXPECT_EQ(Stop(*inspector, SIGTERM, 30s), 0);

  ServeProcess* second = Serve({"--workers", "1"}, "second.log");
  ASSERT_NE(second, nullptr);
  Api api(second->port(), key_);
  EXPECT_TRUE(api.WaitAll(ids, "succeeded", 60s)) << second->Stderr();
}

// --drain-timeout 0: the running job is handed back to the queue (not failed) and the next process runs it.
TEST_F(ServeTest, DrainTimeoutReleasesTheRunningJob) {
  ServeProcess* first = ServeFirst({"--workers", "1", "--drain-timeout", "0", "--log-level", "info"}, "first.log");
  ASSERT_NE(first, nullptr);
  std::string id;
  {
    Api api(first->port(), key_);
    id = api.SubmitOk(grace_, astronaut_, R"({"classic_blend":"poisson"})");
    ASSERT_FALSE(id.empty());
    std::string status;
    ASSERT_TRUE(WaitUntil(
        [&] {
          status = api.JobStatus(id);
          return status != "queued";
        },
        60s, 5ms));
    EXPECT_NE(status, "failed");
  }
  EXPECT_EQ(Stop(*first, SIGTERM, 30s), 0) << first->Stderr();
  const bool released = first->Stderr().find("drain timeout") != std::string::npos;
  RecordProperty("released_by_drain_timeout", released ? "yes" : "no");

  ServeProcess* inspector = Serve({"--workers", "0"}, "inspect.log");
  ASSERT_NE(inspector, nullptr);
  {
    Api api(inspector->port(), key_);
    const Api::Reply job = api.Get("/v1/jobs/" + id);
    ASSERT_EQ(job.status, 200) << job.raw;
    const std::string status = job.body.value("status", "");
    if (released) {
      EXPECT_EQ(status, "queued") << job.raw;
      EXPECT_EQ(job.body.value("attempts", -1), 0) << "a released attempt must not count: " << job.raw;
    } else {
      EXPECT_EQ(status, "succeeded") << job.raw;  // it finished before the drain began
    }
  }
  EXPECT_EQ(Stop(*inspector, SIGTERM, 30s), 0);

  ServeProcess* second = Serve({"--workers", "1"}, "second.log");
  ASSERT_NE(second, nullptr);
  Api api(second->port(), key_);
  EXPECT_TRUE(api.WaitAll({id}, "succeeded", 60s)) << second->Stderr();
  const Api::Reply job = api.Get("/v1/jobs/" + id);
  EXPECT_EQ(job.body.value("attempts", -1), 1) << job.raw;
  EXPECT_TRUE(job.body["error"].is_null()) << job.raw;
}

// keys create / list / revoke against a live server, and their exit codes.
TEST_F(ServeTest, KeysCreateListRevoke) {
  const CliResult created = RunCli({"keys", "create", "--data-dir", data_, "--name", "ci"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::regex key_format("ff_([a-z2-7]{12})_[a-z2-7]{32}\n");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(created.out, match, key_format)) << created.out;
  const std::string key = created.out.substr(0, created.out.size() - 1);
  const std::string id = match[1];
  EXPECT_NE(created.err.find(id), std::string::npos) << created.err;

  const CliResult listed = RunCli({"keys", "list", "--data-dir", data_});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(std::regex_search(listed.out, std::regex(id + " +ci +\\S+ +active"))) << listed.out;
  EXPECT_EQ(listed.out.find(key), std::string::npos) << "list must never show a key";
  const CliResult listed_json = RunCli({"keys", "list", "--data-dir", data_, "--json"});
  ASSERT_EQ(listed_json.exit_code, 0) << listed_json.err;
  const json entry = json::parse(listed_json.out, nullptr, false);
  ASSERT_TRUE(entry.is_object()) << listed_json.out;
  EXPECT_EQ(entry.value("id", ""), id);
  EXPECT_EQ(entry.value("name", ""), "ci");
  EXPECT_EQ(entry.value("revoked", true), false);

  ServeProcess* server = Serve({"--workers", "0"}, "serve.log");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->GeneratedKey(), "") << server->stdout_text();
  EXPECT_EQ(server->stdout_text().find("no API key existed"), std::string::npos) << server->stdout_text();
  Api api(server->port(), key);
  EXPECT_EQ(api.Get("/v1/jobs").status, 200);
  Api stranger(server->port(), "ff_aaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(stranger.Get("/v1/jobs").status, 401);
  EXPECT_EQ(api.Get("/v1/jobs", false).status, 401);

  const CliResult revoked = RunCli({"keys", "revoke", "--data-dir", data_, "--id", id});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  const auto revoked_at = std::chrono::steady_clock::now();
  Api::Reply reply;
  EXPECT_TRUE(WaitUntil(
      [&] {
        reply = api.Get("/v1/jobs");
        return reply.status == 401;
      },
      7s, 200ms))
      << "revoked key still accepted after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - revoked_at).count()
      << " ms";
  EXPECT_EQ(reply.body["error"].value("code", ""), "unauthenticated") << reply.raw;
  EXPECT_TRUE(std::regex_search(RunCli({"keys", "list", "--data-dir", data_}).out, std::regex(id + " +ci .*revoked")));

  const CliResult unknown = RunCli({"keys", "revoke", "--data-dir", data_, "--id", "nope"});
  EXPECT_EQ(unknown.exit_code, 9) << unknown.err;
  EXPECT_NE(unknown.err.find("not_found"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("nope"), std::string::npos) << unknown.err;
  const CliResult bogus = RunCli({"keys", "bogus", "--data-dir", data_});
  EXPECT_EQ(bogus.exit_code, 2) << bogus.err;
  EXPECT_NE(bogus.err.find("usage"), std::string::npos) << bogus.err;
  EXPECT_EQ(RunCli({"keys", "revoke", "--data-dir", data_}).exit_code, 2);
}

// No key yet: serve creates one, prints it, and stays on loopback whatever --host says.
TEST_F(ServeTest, WithoutKeysListensOnLoopbackOnly) {
  ServeProcess* server = Serve({"--host", "0.0.0.0", "--workers", "0"}, "serve.log");
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(std::regex_search(server->stdout_text(), std::regex("\nff_[a-z2-7]{12}_[a-z2-7]{32}\n")))
      << server->stdout_text();
  EXPECT_NE(server->stdout_text().find("listening on http://127.0.0.1:"), std::string::npos) << server->stdout_text();
  EXPECT_EQ(server->host(), "127.0.0.1");
  const std::string warning = server->Stderr();
  EXPECT_NE(warning.find("127.0.0.1 instead of 0.0.0.0"), std::string::npos) << warning;
  Api api(server->port(), server->GeneratedKey());
  EXPECT_EQ(api.Get("/v1/jobs").status, 200);

  // The next start finds the key and honours --host (port 0 keeps it free).
  EXPECT_EQ(Stop(*server, SIGTERM, 30s), 0);
  ServeProcess* again = Serve({"--host", "0.0.0.0", "--workers", "0"}, "again.log");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->host(), "0.0.0.0") << again->stdout_text();
  EXPECT_EQ(again->GeneratedKey(), "");
}

// --unload-after-idle: the models go after a quiet second and come back for the next job.
TEST_F(ServeTest, UnloadsIdleEngineAndReloadsForTheNextJob) {
  ServeProcess* server = ServeFirst({"--workers", "1", "--unload-after-idle", "1", "--log-level", "info"}, "serve.log");
  ASSERT_NE(server, nullptr);
  Api api(server->port(), key_);
  const std::string first = api.SubmitOk(grace_, astronaut_);
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(api.WaitAll({first}, "succeeded", 60s)) << server->Stderr();
  // No job runs now, so the last engine event must become an unload.
  const auto unloaded = [&] {
    const std::string log = server->Stderr();
    const std::size_t unload = log.rfind("engine unloaded");
    return unload != std::string::npos &&
           (log.rfind("engine loaded") == std::string::npos || log.rfind("engine loaded") < unload);
  };
  EXPECT_TRUE(WaitUntil(unloaded, 4s, 100ms)) << server->Stderr();
  const std::size_t mark = server->Stderr().size();

  const std::string second = api.SubmitOk(grace_, astronaut_);
  ASSERT_FALSE(second.empty());
  EXPECT_TRUE(api.WaitAll({second}, "succeeded", 60s)) << server->Stderr();
  const std::string log = server->Stderr();
  EXPECT_NE(log.find("engine loaded", mark), std::string::npos) << "no reload for the second job:\n" << log;
  const auto result = api.Download(second);
  ASSERT_TRUE(result);
  EXPECT_TRUE(IsPng(result->body, 512, 512));
}

// Flag errors exit before anything listens, with the documented exit codes and the flag named.
TEST_F(ServeTest, BadFlagsExitWithTheirCodes) {
  const CliResult queue = RunCli({"serve", "--data-dir", data_, "--port", "0", "--queue", "kafka://x"}, 30s);
  EXPECT_EQ(queue.exit_code, 2) << queue.err;
  EXPECT_NE(queue.err.find("--queue"), std::string::npos) << queue.err;
  EXPECT_EQ(queue.out.find("listening"), std::string::npos) << queue.out;
  // A queue that stays unreachable past --connect-timeout: unavailable (13).
  const CliResult unreachable = RunCli(
      {"serve", "--data-dir", data_, "--port", "0", "--queue", "redis://127.0.0.1:1/0", "--connect-timeout", "0"}, 30s);
  EXPECT_EQ(unreachable.exit_code, 13) << unreachable.err;
  EXPECT_NE(unreachable.err.find("127.0.0.1:1"), std::string::npos) << unreachable.err;

  const CliResult port = RunCli({"serve", "--data-dir", data_, "--port", "99999"}, 30s);
  EXPECT_EQ(port.exit_code, 2) << port.err;
  EXPECT_NE(port.err.find("--port"), std::string::npos) << port.err;

  const CliResult data_dir = RunCli({"serve", "--data-dir", "/proc/forbidden", "--port", "0"}, 30s);
  EXPECT_EQ(data_dir.exit_code, 6) << data_dir.err;
  EXPECT_NE(data_dir.err.find("/proc/forbidden"), std::string::npos) << data_dir.err;

  const CliResult unknown = RunCli({"serve", "--no-such-flag"}, 30s);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;

  const CliResult help = RunCli({"serve", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--drain-timeout"), std::string::npos);
}

// SIGTERM (or Ctrl-C) while serve waits for an unreachable queue at start must stop it, not wait out
// --connect-timeout (the retry loop waits with sigtimedwait on the blocked stop signals).
TEST_F(ServeTest, SigtermWhileWaitingForTheQueueStopsPromptly) {
  ServeProcess server;
  std::string error;
  ASSERT_TRUE(
      server.Launch({"--data-dir", data_, "--port", "0", "--queue", "redis://127.0.0.1:1/0", "--connect-timeout", "60"},
                    dir_.File("serve.log"), &error))
      << error;
  ASSERT_TRUE(WaitUntil([&] { return server.Stderr().find("retrying") != std::string::npos; }, 30s)) << server.Stderr();
  server.Signal(SIGTERM);
  const std::optional<int> status = server.Wait(5s);
  EXPECT_TRUE(status.has_value()) << "still running 5 s after SIGTERM:\n" << server.Stderr();
}

// `facefleet worker --max-jobs 1` (a KEDA ScaledJob pod) runs exactly one job and exits 0, leaving the rest queued;
// `--exit-when-idle` ends a worker that finds nothing to do. Both share the API server's SQLite queue and storage.
TEST_F(ServeTest, BatchWorkerRunsItsShareAndExits) {
  ServeProcess* api_tier = ServeFirst({"--workers", "0"}, "api.log");
  ASSERT_NE(api_tier, nullptr);
  Api api(api_tier->port(), key_);
  const std::vector<std::string> ids = {api.SubmitOk(grace_, astronaut_), api.SubmitOk(grace_, astronaut_)};
  ASSERT_FALSE(ids[0].empty());
  ASSERT_FALSE(ids[1].empty());

  const std::vector<std::string> worker = {"worker", "--data-dir", data_, "--port", "0", "--log-level", "info"};
  std::vector<std::string> one_job = worker;
  one_job.insert(one_job.end(), {"--max-jobs", "1"});
  const CliResult first = RunCli(one_job, 120s);
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("ran --max-jobs jobs: exiting"), std::string::npos) << first.err;
  auto statuses = api.Statuses();
  EXPECT_EQ(CountStatus(statuses, "succeeded"), 1U);
  EXPECT_EQ(CountStatus(statuses, "queued"), 1U);

  // The second worker takes the remaining job, then finds the queue empty and leaves after 1 s idle.
  std::vector<std::string> until_idle = worker;
  until_idle.insert(until_idle.end(), {"--exit-when-idle", "1"});
  const CliResult second = RunCli(until_idle, 120s);
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("idle for --exit-when-idle: exiting"), std::string::npos) << second.err;
  statuses = api.Statuses();
  EXPECT_EQ(CountStatus(statuses, "succeeded"), 2U);
  EXPECT_EQ(Stop(*api_tier, SIGTERM, 30s), 0);
}

}  // namespace
}  // namespace facefleet
