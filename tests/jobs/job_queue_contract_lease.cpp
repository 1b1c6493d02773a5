// JobQueue contract, part 2: leasing and the worker side of the life cycle (Renew, Complete, Fail, Release),
// cancellation and lease loss.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "job_queue_contract.hpp"

namespace facefleet::jobs::contract {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Generous bound for "wakes up promptly": a real wake-up takes milliseconds; this only catches a missed one.
constexpr auto kPromptly = std::chrono::seconds(2);

TEST_P(JobQueueContract, LeaseReturnsNothingWhenEmpty) {
  EXPECT_FALSE(TryLease("w1").has_value());
  const auto start = Clock::now();
  Result<std::optional<JobRecord>> waited =
      queue_->Lease({.worker_id = "w1", .lease = std::chrono::seconds(30), .wait = milliseconds(50)});
  ASSERT_TRUE(waited.ok()) << waited.status().ToString();
  EXPECT_FALSE(waited->has_value());
  EXPECT_LT(Clock::now() - start, kPromptly);
}

TEST_P(JobQueueContract, LeaseHandsOutTheOldestJobAndMarksItRunning) {
  const JobRecord first = SubmitJob();
  const JobRecord second = SubmitJob("bob");
  const Millis before = NowMillis();
  const JobRecord leased = LeaseJob("w1", std::chrono::seconds(30));
  EXPECT_EQ(leased.id, first.id);
  EXPECT_EQ(leased.status, JobStatus::kRunning);
  EXPECT_EQ(leased.worker_id, "w1");
  EXPECT_EQ(leased.attempts, 1);
  EXPECT_GE(leased.started_ms, before - 1000);
  EXPECT_GE(leased.lease_expires_ms, before + 29'000);
  EXPECT_GT(leased.version, first.version);
  const JobRecord stored = Fetch(first.id);
  EXPECT_EQ(stored.status, JobStatus::kRunning);
  EXPECT_EQ(stored.worker_id, "w1");
  EXPECT_EQ(stored.attempts, 1);
  EXPECT_EQ(LeaseJob("w2").id, second.id);
  EXPECT_FALSE(TryLease("w3").has_value());
}

TEST_P(JobQueueContract, ConcurrentLeasesNeverHandOutAJobTwice) {
  constexpr int kJobs = 120;
  constexpr int kWorkers = 8;
  for (int i = 0; i < kJobs; ++i) SubmitJob("owner" + std::to_string(i % 3));
  std::mutex mutex;
  std::multiset<std::string> leased;
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  workers.reserve(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      for (;;) {
        Result<std::optional<JobRecord>> job =
            queue_->Lease({.worker_id = "w" + std::to_string(w), .lease = std::chrono::seconds(30), .wait = {}});
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

TEST_P(JobQueueContract, WaitingLeaseWakesWhenAJobIsSubmitted) {
  std::optional<Result<std::optional<JobRecord>>> got;
  Clock::time_point returned;
  std::thread waiter([&] {
    got = queue_->Lease({.worker_id = "w1", .lease = std::chrono::seconds(30), .wait = std::chrono::seconds(10)});
    returned = Clock::now();
  });
  std::this_thread::sleep_for(milliseconds(100));  // let the waiter find the queue empty and block
  const auto submitted = Clock::now();
  const JobRecord job = SubmitJob();
  waiter.join();
  ASSERT_TRUE(got->ok()) << got->status().ToString();
  ASSERT_TRUE((*got)->has_value());
  EXPECT_EQ((**got)->id, job.id);
  EXPECT_LT(returned - submitted, kPromptly);
}

TEST_P(JobQueueContract, LapsedLeaseIsTakenOverAndTheOldHolderLosesIt) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1", milliseconds(50));
  std::this_thread::sleep_for(milliseconds(120));
  const JobRecord taken = LeaseJob("w2");
  EXPECT_EQ(taken.id, job.id);
  EXPECT_EQ(taken.worker_id, "w2");
  EXPECT_EQ(taken.attempts, 2);  // the lost lease counted as an attempt
  // Exactly-once completion: the first holder can no longer change the job.
  EXPECT_EQ(queue_->Renew(job.id, "w1", std::chrono::seconds(30), {}).code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Complete(job.id, "w1", "results/w1.mp4").code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Fail(job.id, "w1", Status(ErrorCode::kInternal, "x"), true, milliseconds(0)).code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Release(job.id, "w1").code(), ErrorCode::kNotFound);
  ASSERT_TRUE(queue_->Complete(job.id, "w2", "results/w2.mp4").ok());
  const JobRecord done = Fetch(job.id);
  EXPECT_EQ(done.status, JobStatus::kSucceeded);
  EXPECT_EQ(done.result_key, "results/w2.mp4");
}

TEST_P(JobQueueContract, LapsedLeaseWithNoAttemptsLeftFails) {
  const JobRecord job = SubmitJob("alice", 1);
  LeaseJob("w1", milliseconds(50));
  std::this_thread::sleep_for(milliseconds(120));
  EXPECT_FALSE(TryLease("w2").has_value());
  const JobRecord failed = Fetch(job.id);
  EXPECT_EQ(failed.status, JobStatus::kFailed);
  EXPECT_EQ(failed.error_code, "internal");
  EXPECT_FALSE(failed.error_message.empty());
  EXPECT_GT(failed.finished_ms, 0);
  Result<QueueStats> stats = queue_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->dead_letters, 1);
}

TEST_P(JobQueueContract, RenewExtendsTheLeaseAndRecordsProgress) {
  const JobRecord job = SubmitJob();
  const JobRecord leased = LeaseJob("w1", milliseconds(100));
  ASSERT_TRUE(queue_->Renew(job.id, "w1", std::chrono::seconds(30), {.frames_done = 12, .frames_total = 40}).ok());
  const JobRecord renewed = Fetch(job.id);
  EXPECT_EQ(renewed.frames_done, 12);
  EXPECT_EQ(renewed.frames_total, 40);
  EXPECT_GT(renewed.lease_expires_ms, leased.lease_expires_ms);
  EXPECT_GT(renewed.version, leased.version);
  std::this_thread::sleep_for(milliseconds(150));  // past the original lease, within the renewed one
  EXPECT_FALSE(TryLease("w2").has_value());
  EXPECT_EQ(queue_->Renew(job.id, "w2", std::chrono::seconds(30), {}).code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Renew(NewJobId(), "w1", std::chrono::seconds(30), {}).code(), ErrorCode::kNotFound);
}

TEST_P(JobQueueContract, CompleteIsIdempotentForTheHolder) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1");
  ASSERT_TRUE(queue_->Complete(job.id, "w1", "results/a.mp4").ok());
  const JobRecord done = Fetch(job.id);
  EXPECT_EQ(done.status, JobStatus::kSucceeded);
  EXPECT_EQ(done.result_key, "results/a.mp4");
  EXPECT_GT(done.finished_ms, 0);
  EXPECT_TRUE(queue_->Complete(job.id, "w1", "results/a.mp4").ok());  // a retried call
  EXPECT_EQ(Fetch(job.id).version, done.version);                     // ... changes nothing
  EXPECT_EQ(queue_->Complete(job.id, "w2", "results/a.mp4").code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Complete(job.id, "w1", "results/other.mp4").code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Complete(SubmitJob().id, "w1", "results/b.mp4").code(), ErrorCode::kNotFound);  // not leased
}

TEST_P(JobQueueContract, RetryableFailureRequeuesAfterTheBackoff) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1");
  const Millis before = NowMillis();
  ASSERT_TRUE(
      queue_->Fail(job.id, "w1", Status(ErrorCode::kUnavailable, "storage down"), true, std::chrono::seconds(60)).ok());
  const JobRecord queued = Fetch(job.id);
  EXPECT_EQ(queued.status, JobStatus::kQueued);
  EXPECT_EQ(queued.attempts, 1);
  EXPECT_EQ(queued.worker_id, "");
  EXPECT_GE(queued.not_before_ms, before + 59'000);
  EXPECT_EQ(queued.finished_ms, 0);
  EXPECT_FALSE(TryLease("w2").has_value());  // in back-off
}

TEST_P(JobQueueContract, JobIsLeasedAgainWhenItsBackoffEnds) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1");
  ASSERT_TRUE(queue_->Fail(job.id, "w1", Status(ErrorCode::kUnavailable, "x"), true, milliseconds(100)).ok());
  const auto start = Clock::now();
  Result<std::optional<JobRecord>> again =
      queue_->Lease({.worker_id = "w2", .lease = std::chrono::seconds(30), .wait = std::chrono::seconds(10)});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->id, job.id);
  EXPECT_EQ((*again)->attempts, 2);
  EXPECT_LT(Clock::now() - start, kPromptly);
}

TEST_P(JobQueueContract, ExhaustedAttemptsFailTheJobAsADeadLetter) {
  const JobRecord job = SubmitJob("alice", 2);
  LeaseJob("w1");
  ASSERT_TRUE(queue_->Fail(job.id, "w1", Status(ErrorCode::kUnavailable, "try 1"), true, milliseconds(0)).ok());
  EXPECT_EQ(LeaseJob("w1").attempts, 2);
  ASSERT_TRUE(queue_->Fail(job.id, "w1", Status(ErrorCode::kUnavailable, "try 2"), true, milliseconds(0)).ok());
  const JobRecord failed = Fetch(job.id);
  EXPECT_EQ(failed.status, JobStatus::kFailed);
  EXPECT_EQ(failed.error_code, "unavailable");
  EXPECT_EQ(failed.error_message, "try 2");
  EXPECT_GT(failed.finished_ms, 0);
  EXPECT_FALSE(TryLease("w1").has_value());
  Result<QueueStats> stats = queue_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->failed, 1);
  EXPECT_EQ(stats->dead_letters, 1);
}

TEST_P(JobQueueContract, FinalFailureFailsAtOnce) {
  const JobRecord job = SubmitJob("alice", 5);
  LeaseJob("w1");
  ASSERT_TRUE(
      queue_->Fail(job.id, "w1", Status(ErrorCode::kNoFace, "source.jpg: no face found"), false, milliseconds(0)).ok());
  const JobRecord failed = Fetch(job.id);
  EXPECT_EQ(failed.status, JobStatus::kFailed);
  EXPECT_EQ(failed.error_code, "no_face");
  EXPECT_EQ(failed.error_message, "source.jpg: no face found");
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_EQ(queue_->Fail(job.id, "w1", Status(ErrorCode::kNoFace, "again"), false, milliseconds(0)).code(),
            ErrorCode::kNotFound);
}

TEST_P(JobQueueContract, ReleaseRequeuesWithoutCountingTheAttempt) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1");
  ASSERT_TRUE(queue_->Release(job.id, "w1").ok());
  const JobRecord released = Fetch(job.id);
  EXPECT_EQ(released.status, JobStatus::kQueued);
  EXPECT_EQ(released.attempts, 0);
  EXPECT_EQ(released.worker_id, "");
  const JobRecord again = LeaseJob("w2");
  EXPECT_EQ(again.id, job.id);
  EXPECT_EQ(again.attempts, 1);
  EXPECT_EQ(queue_->Release(job.id, "w1").code(), ErrorCode::kNotFound);
}

TEST_P(JobQueueContract, CancelEndsAQueuedJobAtOnce) {
  const JobRecord job = SubmitJob();
  Result<JobRecord> canceled = queue_->Cancel("alice", job.id);
  ASSERT_TRUE(canceled.ok()) << canceled.status().ToString();
  EXPECT_EQ(canceled->status, JobStatus::kCanceled);
  EXPECT_GT(canceled->finished_ms, 0);
  EXPECT_GT(canceled->version, job.version);
  EXPECT_EQ(Fetch(job.id).status, JobStatus::kCanceled);
  EXPECT_FALSE(TryLease("w1").has_value());
}

TEST_P(JobQueueContract, CancelOfARunningJobReachesTheHolderThroughRenew) {
  const JobRecord job = SubmitJob();
  const JobRecord leased = LeaseJob("w1", milliseconds(5000));
  Result<JobRecord> requested = queue_->Cancel("alice", job.id);
  ASSERT_TRUE(requested.ok()) << requested.status().ToString();
  EXPECT_EQ(requested->status, JobStatus::kRunning);
  EXPECT_TRUE(requested->cancel_requested);
  // Renew still extends the lease and saves progress, and tells the holder to stop.
  EXPECT_EQ(queue_->Renew(job.id, "w1", std::chrono::seconds(60), {.frames_done = 3, .frames_total = 9}).code(),
            ErrorCode::kCanceled);
  const JobRecord renewed = Fetch(job.id);
  EXPECT_EQ(renewed.frames_done, 3);
  EXPECT_GT(renewed.lease_expires_ms, leased.lease_expires_ms);
  ASSERT_TRUE(queue_->Fail(job.id, "w1", Status(ErrorCode::kCanceled, "canceled"), true, milliseconds(0)).ok());
  const JobRecord canceled = Fetch(job.id);
  EXPECT_EQ(canceled.status, JobStatus::kCanceled);
  EXPECT_GT(canceled.finished_ms, 0);
  Result<QueueStats> stats = queue_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->canceled, 1);
  EXPECT_EQ(stats->dead_letters, 0);
}

// Nobody is left to act on the cancel request: the job must not run again.
TEST_P(JobQueueContract, ReleasingACancelRequestedJobCancelsIt) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1");
  ASSERT_TRUE(queue_->Cancel("alice", job.id).ok());
  ASSERT_TRUE(queue_->Release(job.id, "w1").ok());
  EXPECT_EQ(Fetch(job.id).status, JobStatus::kCanceled);
  EXPECT_FALSE(TryLease("w2").has_value());
}

TEST_P(JobQueueContract, LapsedLeaseOfACancelRequestedJobCancelsIt) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1", milliseconds(50));
  ASSERT_TRUE(queue_->Cancel("alice", job.id).ok());
  std::this_thread::sleep_for(milliseconds(120));
  EXPECT_FALSE(TryLease("w2").has_value());
  const JobRecord canceled = Fetch(job.id);
  EXPECT_EQ(canceled.status, JobStatus::kCanceled);
  EXPECT_GT(canceled.finished_ms, 0);
}

TEST_P(JobQueueContract, CancelOfAFinishedJobConflicts) {
  const JobRecord done = SubmitJob();
  LeaseJob("w1");
  ASSERT_TRUE(queue_->Complete(done.id, "w1", "results/x.mp4").ok());
  EXPECT_EQ(queue_->Cancel("alice", done.id).status().code(), ErrorCode::kConflict);
  const JobRecord canceled = SubmitJob();
  ASSERT_TRUE(queue_->Cancel("alice", canceled.id).ok());
  EXPECT_EQ(queue_->Cancel("alice", canceled.id).status().code(), ErrorCode::kConflict);
  EXPECT_EQ(Fetch(done.id).status, JobStatus::kSucceeded);
}

TEST_P(JobQueueContract, DeletingALeasedJobTakesTheLeaseAway) {
  const JobRecord job = SubmitJob();
  LeaseJob("w1");
  ASSERT_TRUE(queue_->Delete("alice", job.id).ok());
  EXPECT_EQ(queue_->Renew(job.id, "w1", std::chrono::seconds(30), {}).code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Complete(job.id, "w1", "results/x.mp4").code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace facefleet::jobs::contract
