// WorkerPool's batch-mode controls (what `facefleet worker --max-jobs / --exit-when-idle` build on): a pool with
// max_jobs leases exactly that many jobs across all its threads and reports Exhausted() once they finished; IdleFor
// counts only time without a running job. Real SQLite queue and file storage; the JobRunner is a fake.
#include "jobs/worker_pool.hpp"

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "jobs/job_queue.hpp"
#include "storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::jobs {
namespace {

using std::chrono::milliseconds;

// Writes a small output file; blocks while `hold` is set (so a test can observe a running job).
class FakeRunner : public JobRunner {
 public:
  Status Run(const JobContext& ctx) override {
    ++runs;
    while (hold.load() && !ctx.stop.stop_requested()) std::this_thread::sleep_for(milliseconds(5));
    std::ofstream(ctx.output_path) << "result of " << ctx.job->id;
    return Status::Ok();
  }
  Status Ready() override { return Status::Ok(); }
  std::atomic<int> runs{0};
  std::atomic<bool> hold{false};
};

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto queue = OpenSqliteQueue({dir_.File("jobs.db")});
    ASSERT_TRUE(queue.ok()) << queue.status().ToString();
    queue_ = std::move(*queue);
    storage::FileStorageOptions files;
    files.root = dir_.File("objects");
    files.sync = false;
    auto storage = storage::OpenFileStorage(files);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(*storage);
    for (const char* key : {"in/source.jpg", "in/target.jpg"}) {
      auto writer = storage_->OpenWriter(key, "image/jpeg");
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE((*writer)->Append("bytes").ok());
      ASSERT_TRUE((*writer)->Commit().ok());
    }
  }

  void SubmitJobs(int n) {
    for (int i = 0; i < n; ++i) {
      JobRecord job;
      job.id = NewJobId();
      job.owner = "owner";
      job.options_json = "{}";
      job.source_keys = {"in/source.jpg"};
      job.target_key = "in/target.jpg";
      job.output_ext = ".jpg";
      job.max_attempts = 1;
      ASSERT_TRUE(queue_->Submit(std::move(job)).ok());
    }
  }

  std::unique_ptr<WorkerPool> MakePool(int workers, int max_jobs) {
    WorkerPoolOptions options;
    options.workers = workers;
    options.max_jobs = max_jobs;
    options.worker_id = "pool-test";
    options.heartbeat = milliseconds(50);
    options.lease_wait = milliseconds(50);
    options.scratch_dir = dir_.File("scratch");
    return std::make_unique<WorkerPool>(*queue_, *storage_, runner_, options);
  }

  QueueStats Stats() {
    auto stats = queue_->Stats();
    EXPECT_TRUE(stats.ok());
    return stats.ok() ? *stats : QueueStats{};
  }

  // Polls `done` for up to 10 s (generous for a loaded CI machine; the test asserts outcomes, not speed).
  template <typename Pred>
  static bool Eventually(Pred done) {
    for (int i = 0; i < 2000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return done();
  }

  testing::TempDir dir_;
  std::unique_ptr<JobQueue> queue_;
  std::unique_ptr<storage::Storage> storage_;
  FakeRunner runner_;
};

TEST_F(WorkerPoolTest, MaxJobsLeasesExactlyThatManyAcrossThreads) {
  SubmitJobs(5);
  auto pool = MakePool(/*workers=*/3, /*max_jobs=*/2);
  pool->Start();
  ASSERT_TRUE(Eventually([&] { return pool->Exhausted(); }));
  // Give a thread that overshot the cap the time to lease a third job, then check none did.
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(runner_.runs.load(), 2);
  const QueueStats stats = Stats();
  EXPECT_EQ(stats.succeeded, 2);
  EXPECT_EQ(stats.queued, 3);  // left for other workers
  EXPECT_EQ(stats.running, 0);
  EXPECT_TRUE(pool->Drain(milliseconds(1000)));
}

TEST_F(WorkerPoolTest, NotExhaustedWhileItsLastJobRuns) {
  SubmitJobs(1);
  runner_.hold = true;
  auto pool = MakePool(1, 1);
  pool->Start();
  ASSERT_TRUE(Eventually([&] { return runner_.runs.load() == 1; }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(pool->Exhausted());
  EXPECT_EQ(pool->IdleFor(), milliseconds(0));  // busy: not idle
  runner_.hold = false;
  ASSERT_TRUE(Eventually([&] { return pool->Exhausted(); }));
  EXPECT_EQ(Stats().succeeded, 1);
}

TEST_F(WorkerPoolTest, WithoutMaxJobsNeverExhausted) {
  SubmitJobs(2);
  auto pool = MakePool(1, 0);
  pool->Start();
  ASSERT_TRUE(Eventually([&] { return Stats().succeeded == 2; }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_FALSE(pool->Exhausted());
}

TEST_F(WorkerPoolTest, IdleForCountsFromTheLastJobsEnd) {
  auto pool = MakePool(1, 0);
  pool->Start();
  std::this_thread::sleep_for(milliseconds(150));
  EXPECT_GE(pool->IdleFor(), milliseconds(100));  // idle since Start
  const auto submitted = std::chrono::steady_clock::now();
  SubmitJobs(1);
  ASSERT_TRUE(Eventually([&] { return Stats().succeeded == 1; }));
  // The job ended after it was submitted, and its end restarted the idle clock.
  const milliseconds idle = pool->IdleFor();
  EXPECT_LE(idle, std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - submitted));
}

}  // namespace
}  // namespace facefleet::jobs
