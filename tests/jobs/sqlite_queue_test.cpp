// SQLite-specific behaviour of the job queue (the shared behaviour is in the contract suite).
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "jobs/job_queue.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::jobs {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<JobQueue> MustOpen(const std::string& path, milliseconds poll = milliseconds(20)) {
  Result<std::unique_ptr<JobQueue>> queue = OpenSqliteQueue({.path = path, .poll = poll});
  if (!queue.ok()) {
    ADD_FAILURE() << queue.status().ToString();
    return nullptr;
  }
  return std::move(*queue);
}

JobRecord NewJob(const std::string& owner = "alice") {
  JobRecord job;
  job.id = NewJobId();
  job.owner = owner;
  job.options_json = "{}";
  job.source_keys = {"uploads/s.jpg"};
  job.target_key = "uploads/t.jpg";
  job.output_ext = ".jpg";
  return job;
}

// Runs one query returning a single value on a separate raw connection (as another process would see it).
std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out = "<error>";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(stmt, 0);
        out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      } else if (rc == SQLITE_DONE) {
        out = "";
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db);
  return out;
}

TEST(SqliteQueue, RefusesAnInMemoryDatabase) {
  for (const std::string path : {":memory:", ""}) {
    Result<std::unique_ptr<JobQueue>> queue = OpenSqliteQueue({.path = path});
    EXPECT_EQ(queue.status().code(), ErrorCode::kUsage) << path;
  }
}

TEST(SqliteQueue, UncreatableFileIsAnOutputError) {
  facefleet::testing::TempDir dir;
  std::ofstream(dir.File("file.txt")) << "not a directory";
  const std::string path = dir.File("file.txt") + "/queue.db";
  Result<std::unique_ptr<JobQueue>> queue = OpenSqliteQueue({.path = path});
  ASSERT_EQ(queue.status().code(), ErrorCode::kOutputFailed) << queue.status().ToString();
  EXPECT_NE(queue.status().message().find(path), std::string::npos) << queue.status().message();
}

TEST(SqliteQueue, FileThatIsNotADatabaseIsAnOutputError) {
  facefleet::testing::TempDir dir;
  std::ofstream(dir.File("queue.db")) << std::string(4096, 'x');
  Result<std::unique_ptr<JobQueue>> queue = OpenSqliteQueue({.path = dir.File("queue.db")});
  EXPECT_EQ(queue.status().code(), ErrorCode::kOutputFailed) << queue.status().ToString();
}

TEST(SqliteQueue, UsesWalAndRecordsTheSchemaVersion) {
  facefleet::testing::TempDir dir;
  const std::string path = dir.File("queue.db");
  std::unique_ptr<JobQueue> queue = MustOpen(path);
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(RawQuery(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "1");
}

TEST(SqliteQueue, RefusesASchemaFromANewerVersion) {
  facefleet::testing::TempDir dir;
  const std::string path = dir.File("queue.db");
  MustOpen(path).reset();
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version = 99"), "");
  Result<std::unique_ptr<JobQueue>> queue = OpenSqliteQueue({.path = path});
  EXPECT_EQ(queue.status().code(), ErrorCode::kUsage) << queue.status().ToString();
}

TEST(SqliteQueue, SubmittedJobIsCommittedWhenSubmitReturns) {
  facefleet::testing::TempDir dir;
  const std::string path = dir.File("queue.db");
  std::unique_ptr<JobQueue> queue = MustOpen(path);
  ASSERT_NE(queue, nullptr);
  const JobRecord job = NewJob();
  ASSERT_TRUE(queue->Submit(job).ok());
  // Another connection sees the row at once: it was committed, not merely queued for a later batch.
  EXPECT_EQ(RawQuery(path, "SELECT status FROM jobs WHERE id = '" + job.id + "'"), "queued");
}

TEST(SqliteQueue, TwoInstancesOnOneFileNeverLeaseTheSameJob) {
  facefleet::testing::TempDir dir;
  const std::string path = dir.File("queue.db");
  std::unique_ptr<JobQueue> a = MustOpen(path);
  std::unique_ptr<JobQueue> b = MustOpen(path);
  ASSERT_TRUE(a != nullptr && b != nullptr);
  constexpr int kJobs = 80;
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE((i % 2 == 0 ? a : b)->Submit(NewJob()).ok());
  std::mutex mutex;
  std::multiset<std::string> leased;
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w) {
    JobQueue* queue = (w % 2 == 0 ? a : b).get();
    workers.emplace_back([&, queue, w] {
      for (;;) {
        Result<std::optional<JobRecord>> job =
            queue->Lease({.worker_id = "w" + std::to_string(w), .lease = std::chrono::seconds(30), .wait = {}});
        if (!job.ok()) errors.fetch_add(1);
        if (!job.ok() || !job->has_value()) return;
        std::lock_guard lock(mutex);
        leased.insert((*job)->id);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(leased.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(leased.begin(), leased.end()).size(), static_cast<std::size_t>(kJobs));
}

TEST(SqliteQueue, WaitingLeaseSeesAnotherInstancesSubmitByPolling) {
  facefleet::testing::TempDir dir;
  const std::string path = dir.File("queue.db");
  std::unique_ptr<JobQueue> submitter = MustOpen(path);
  std::unique_ptr<JobQueue> worker = MustOpen(path, milliseconds(20));
  ASSERT_TRUE(submitter != nullptr && worker != nullptr);
  std::optional<Result<std::optional<JobRecord>>> got;
  std::thread waiter([&] {
    got = worker->Lease({.worker_id = "w", .lease = std::chrono::seconds(30), .wait = std::chrono::seconds(10)});
  });
  std::this_thread::sleep_for(milliseconds(50));
  const auto submitted = std::chrono::steady_clock::now();
  const JobRecord job = NewJob();
  ASSERT_TRUE(submitter->Submit(job).ok());
  waiter.join();
  ASSERT_TRUE(got->ok()) << got->status().ToString();
  ASSERT_TRUE((*got)->has_value());
  EXPECT_EQ((**got)->id, job.id);
  EXPECT_LT(std::chrono::steady_clock::now() - submitted, std::chrono::seconds(2));
}

TEST(SqliteQueue, RejectsInvalidSubmissions) {
  facefleet::testing::TempDir dir;
  std::unique_ptr<JobQueue> queue = MustOpen(dir.File("queue.db"));
  ASSERT_NE(queue, nullptr);
  JobRecord no_owner = NewJob("");
  EXPECT_EQ(queue->Submit(no_owner).status().code(), ErrorCode::kUsage);
  JobRecord no_attempts = NewJob();
  no_attempts.max_attempts = 0;
  EXPECT_EQ(queue->Submit(no_attempts).status().code(), ErrorCode::kUsage);
  JobRecord bad_key = NewJob();
  bad_key.source_keys = {"a\nb"};
  EXPECT_EQ(queue->Submit(bad_key).status().code(), ErrorCode::kUsage);
  // The same id twice is a conflict for that job only.
  const JobRecord job = NewJob();
  ASSERT_TRUE(queue->Submit(job).ok());
  EXPECT_EQ(queue->Submit(job).status().code(), ErrorCode::kConflict);
  // No id: the queue assigns one.
  JobRecord unnamed = NewJob();
  unnamed.id.clear();
  Result<SubmitOutcome> named = queue->Submit(unnamed);
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->job.id.size(), 26U);
}

}  // namespace
}  // namespace facefleet::jobs
