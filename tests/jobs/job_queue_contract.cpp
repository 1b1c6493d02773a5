// JobQueue contract, part 1: submission, idempotency, ownership, reads, listing, statistics and durability.
// Part 2 (job_queue_contract_lease.cpp) covers leasing and the worker side of the life cycle.
#include "job_queue_contract.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace facefleet::jobs::contract {

std::string BackendName(const ::testing::TestParamInfo<QueueBackend>& info) { return info.param.name; }

void PrintTo(const QueueBackend& backend, std::ostream* os) { *os << backend.name; }

void JobQueueContract::SetUp() {
  queue_ = GetParam().open(scratch_.path().string());
  ASSERT_NE(queue_, nullptr) << "backend " << GetParam().name << " failed to open";
}

void JobQueueContract::Reopen() {
  queue_.reset();
  queue_ = GetParam().reopen(scratch_.path().string());
  ASSERT_NE(queue_, nullptr) << "backend " << GetParam().name << " failed to reopen";
}

JobRecord JobQueueContract::MakeJob(const std::string& owner, const std::string& idempotency_key,
                                    const std::string& request_hash) {
  JobRecord job;
  job.id = NewJobId();
  job.owner = owner;
  job.options_json = R"({"face_swapper_model":"inswapper_128","reference_face_distance":0.6})";
  job.source_keys = {"uploads/" + owner + "/a.jpg", "uploads/" + owner + "/b.png"};
  job.target_key = "uploads/" + owner + "/target.mp4";
  job.output_ext = ".mp4";
  job.is_video = true;
  job.max_attempts = 3;
  job.idempotency_key = idempotency_key;
  job.request_hash = request_hash;
  job.webhook_url = "https://hooks.example.com/ff?x=1";
  job.webhook_events = "completed,status";
  return job;
}

JobRecord JobQueueContract::SubmitJob(const std::string& owner, int max_attempts) {
  JobRecord job = MakeJob(owner);
  job.max_attempts = max_attempts;
  Result<SubmitOutcome> out = queue_->Submit(std::move(job));
  if (!out.ok()) {
    ADD_FAILURE() << "Submit: " << out.status().ToString();
    return {};
  }
  EXPECT_TRUE(out->created);
  return out->job;
}

std::optional<JobRecord> JobQueueContract::TryLease(const std::string& worker, std::chrono::milliseconds lease) {
  Result<std::optional<JobRecord>> out = queue_->Lease({.worker_id = worker, .lease = lease, .wait = {}});
  if (!out.ok()) {
    ADD_FAILURE() << "Lease: " << out.status().ToString();
    return std::nullopt;
  }
  return *out;
}

JobRecord JobQueueContract::LeaseJob(const std::string& worker, std::chrono::milliseconds lease) {
  std::optional<JobRecord> job = TryLease(worker, lease);
  if (!job) {
    ADD_FAILURE() << "Lease for " << worker << " handed out no job";
    return {};
  }
  return *job;
}

JobRecord JobQueueContract::Fetch(const std::string& id) {
  Result<JobRecord> job = queue_->Get("", id);
  if (!job.ok()) {
    ADD_FAILURE() << "Get " << id << ": " << job.status().ToString();
    return {};
  }
  return *job;
}

namespace {

using std::chrono::milliseconds;

// Every submitter field of `got` equals `want`'s.
void ExpectSubmitterFields(const JobRecord& got, const JobRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.owner, want.owner);
  EXPECT_EQ(got.options_json, want.options_json);
  EXPECT_EQ(got.source_keys, want.source_keys);
  EXPECT_EQ(got.target_key, want.target_key);
  EXPECT_EQ(got.output_ext, want.output_ext);
  EXPECT_EQ(got.is_video, want.is_video);
  EXPECT_EQ(got.max_attempts, want.max_attempts);
  EXPECT_EQ(got.idempotency_key, want.idempotency_key);
  EXPECT_EQ(got.request_hash, want.request_hash);
  EXPECT_EQ(got.webhook_url, want.webhook_url);
  EXPECT_EQ(got.webhook_events, want.webhook_events);
}

TEST_P(JobQueueContract, SubmitAndGetRoundTripEveryField) {
  const JobRecord want = MakeJob("alice", "key-1", "hash-1");
  const Millis before = NowMillis();
  Result<SubmitOutcome> out = queue_->Submit(want);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->created);
  ExpectSubmitterFields(out->job, want);

  Result<JobRecord> got = queue_->Get("alice", want.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSubmitterFields(*got, want);
  EXPECT_EQ(got->status, JobStatus::kQueued);
  EXPECT_FALSE(got->cancel_requested);
  EXPECT_EQ(got->attempts, 0);
  EXPECT_EQ(got->worker_id, "");
  EXPECT_EQ(got->result_key, "");
  EXPECT_EQ(got->error_code, "");
  EXPECT_GE(got->created_ms, before - 1000);
  EXPECT_LE(got->created_ms, NowMillis() + 1000);
  EXPECT_EQ(got->started_ms, 0);
  EXPECT_EQ(got->finished_ms, 0);
  EXPECT_GT(got->version, 0);
  EXPECT_EQ(got->created_ms, out->job.created_ms);
  EXPECT_EQ(got->version, out->job.version);
}

TEST_P(JobQueueContract, SubmitResetsTheFieldsTheQueueMaintains) {
  JobRecord job = MakeJob();
  job.status = JobStatus::kSucceeded;
  job.attempts = 7;
  job.worker_id = "w";
  job.result_key = "results/x.mp4";
  job.finished_ms = 123;
  Result<SubmitOutcome> out = queue_->Submit(job);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const JobRecord got = Fetch(job.id);
  EXPECT_EQ(got.status, JobStatus::kQueued);
  EXPECT_EQ(got.attempts, 0);
  EXPECT_EQ(got.worker_id, "");
  EXPECT_EQ(got.result_key, "");
  EXPECT_EQ(got.finished_ms, 0);
}

TEST_P(JobQueueContract, GetUnknownJobIsNotFound) {
  Result<JobRecord> got = queue_->Get("alice", NewJobId());
  EXPECT_EQ(got.status().code(), ErrorCode::kNotFound);
}

TEST_P(JobQueueContract, OwnersSeeOnlyTheirOwnJobs) {
  const JobRecord alices = SubmitJob("alice");
  const JobRecord bobs = SubmitJob("bob");
  EXPECT_EQ(queue_->Get("bob", alices.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Cancel("bob", alices.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Delete("bob", alices.id).code(), ErrorCode::kNotFound);
  EXPECT_EQ(Fetch(alices.id).status, JobStatus::kQueued);  // untouched by bob's attempts

  Result<JobPage> page = queue_->List({.owner = "alice", .status = {}, .cursor = "", .limit = 100});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->jobs.size(), 1U);
  EXPECT_EQ(page->jobs[0].id, alices.id);
  EXPECT_TRUE(queue_->Get("", bobs.id).ok());  // "" = any owner (workers, sweeper)
}

TEST_P(JobQueueContract, SameIdempotencyKeyAndHashReturnsTheFirstJob) {
  Result<SubmitOutcome> first = queue_->Submit(MakeJob("alice", "k", "h"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<SubmitOutcome> again = queue_->Submit(MakeJob("alice", "k", "h"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, first->job.id);
  Result<QueueStats> stats = queue_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued, 1);
}

TEST_P(JobQueueContract, SameIdempotencyKeyWithAnotherRequestConflicts) {
  ASSERT_TRUE(queue_->Submit(MakeJob("alice", "k", "h1")).ok());
  Result<SubmitOutcome> other = queue_->Submit(MakeJob("alice", "k", "h2"));
  EXPECT_EQ(other.status().code(), ErrorCode::kConflict);
}

TEST_P(JobQueueContract, IdempotencyKeysArePerOwner) {
  Result<SubmitOutcome> alices = queue_->Submit(MakeJob("alice", "k", "h"));
  Result<SubmitOutcome> bobs = queue_->Submit(MakeJob("bob", "k", "h"));
  ASSERT_TRUE(alices.ok() && bobs.ok());
  EXPECT_TRUE(bobs->created);
  EXPECT_NE(alices->job.id, bobs->job.id);
}

// Concurrent submissions with one key (as when a client retries quickly) create exactly one job: those with
// the winner's hash get it back, the others conflict.
TEST_P(JobQueueContract, ConcurrentSubmitsWithOneKeyCreateOneJob) {
  constexpr int kThreads = 16;
  std::vector<std::optional<Result<SubmitOutcome>>> outcomes(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { outcomes[t] = queue_->Submit(MakeJob("alice", "k", t % 2 == 0 ? "even" : "odd")); });
  }
  for (auto& thread : threads) thread.join();
  int created = 0;
  std::string winner_id;
  std::string winner_hash;
  for (int t = 0; t < kThreads; ++t) {
    const Result<SubmitOutcome>& out = *outcomes[t];
    if (out.ok() && out->created) {
      ++created;
      winner_id = out->job.id;
      winner_hash = out->job.request_hash;
    }
  }
  ASSERT_EQ(created, 1);
  for (int t = 0; t < kThreads; ++t) {
    const Result<SubmitOutcome>& out = *outcomes[t];
    if ((t % 2 == 0 ? "even" : "odd") == winner_hash) {
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(out->job.id, winner_id);
    } else {
      EXPECT_EQ(out.status().code(), ErrorCode::kConflict);
    }
  }
}

TEST_P(JobQueueContract, ConcurrentSubmitsAreAllStoredExactlyOnce) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 50;
  std::mutex mutex;
  std::set<std::string> ids;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Half the jobs carry idempotency keys, so keyed and unkeyed submissions share batches.
        const std::string key = i % 2 == 0 ? "t" + std::to_string(t) + "-" + std::to_string(i) : "";
        Result<SubmitOutcome> out = queue_->Submit(MakeJob("owner" + std::to_string(t % 4), key, "h"));
        if (!out.ok() || !out->created) {
          failures.fetch_add(1);
          continue;
        }
        std::lock_guard lock(mutex);
        ids.insert(out->job.id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kPerThread));

  std::set<std::string> listed;
  for (int owner = 0; owner < 4; ++owner) {
    ListQuery query{.owner = "owner" + std::to_string(owner), .status = {}, .cursor = "", .limit = 100};
    for (;;) {
      Result<JobPage> page = queue_->List(query);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const JobRecord& job : page->jobs) EXPECT_TRUE(listed.insert(job.id).second) << "listed twice";
      if (page->next_cursor.empty()) break;
      query.cursor = page->next_cursor;
    }
  }
  EXPECT_EQ(listed, ids);
  Result<QueueStats> stats = queue_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued, kThreads * kPerThread);
}

TEST_P(JobQueueContract, DeleteRemovesTheJob) {
  const JobRecord job = SubmitJob();
  ASSERT_TRUE(queue_->Delete("alice", job.id).ok());
  EXPECT_EQ(queue_->Get("alice", job.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(queue_->Delete("alice", job.id).code(), ErrorCode::kNotFound);
  EXPECT_FALSE(TryLease("w1").has_value());
}

TEST_P(JobQueueContract, CountActiveCountsQueuedAndRunningOfOneOwner) {
  const JobRecord a1 = SubmitJob("alice");
  SubmitJob("alice");
  const JobRecord a3 = SubmitJob("alice");
  SubmitJob("bob");
  const JobRecord leased = LeaseJob("w1");  // alice's oldest: running still counts
  EXPECT_EQ(leased.id, a1.id);
  ASSERT_TRUE(queue_->Cancel("alice", a3.id).ok());  // finished: no longer counts
  Result<std::int64_t> alice = queue_->CountActive("alice");
  Result<std::int64_t> bob = queue_->CountActive("bob");
  Result<std::int64_t> carol = queue_->CountActive("carol");
  ASSERT_TRUE(alice.ok() && bob.ok() && carol.ok());
  EXPECT_EQ(*alice, 2);
  EXPECT_EQ(*bob, 1);
  EXPECT_EQ(*carol, 0);
}

TEST_P(JobQueueContract, StatsCountEveryStatusAndDeadLetters) {
  for (int i = 0; i < 6; ++i) SubmitJob("alice", 1);
  const JobRecord succeeded = LeaseJob("w");
  ASSERT_TRUE(queue_->Complete(succeeded.id, "w", "results/1.mp4").ok());
  const JobRecord failed = LeaseJob("w");
  ASSERT_TRUE(queue_->Fail(failed.id, "w", Status(ErrorCode::kNoFace, "no face"), false, milliseconds(0)).ok());
  const JobRecord running = LeaseJob("w");
  const JobRecord canceled = LeaseJob("w");
  ASSERT_TRUE(queue_->Release(canceled.id, "w").ok());
  ASSERT_TRUE(queue_->Cancel("alice", canceled.id).ok());
  Result<QueueStats> stats = queue_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->queued, 2);
  EXPECT_EQ(stats->running, 1);
  EXPECT_EQ(stats->succeeded, 1);
  EXPECT_EQ(stats->failed, 1);
  EXPECT_EQ(stats->canceled, 1);
  EXPECT_EQ(stats->dead_letters, 1);
  EXPECT_EQ(Fetch(running.id).status, JobStatus::kRunning);
}

TEST_P(JobQueueContract, ListPagesNewestFirstWithACursor) {
  std::set<std::string> submitted;
  for (int i = 0; i < 7; ++i) submitted.insert(SubmitJob("alice").id);
  SubmitJob("bob");
  std::vector<JobRecord> seen;
  ListQuery query{.owner = "alice", .status = {}, .cursor = "", .limit = 3};
  std::vector<std::size_t> page_sizes;
  for (;;) {
    Result<JobPage> page = queue_->List(query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    page_sizes.push_back(page->jobs.size());
    seen.insert(seen.end(), page->jobs.begin(), page->jobs.end());
    if (page->next_cursor.empty()) break;
    query.cursor = page->next_cursor;
    ASSERT_LT(page_sizes.size(), 10U) << "paging does not end";
  }
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{3, 3, 1}));
  std::set<std::string> ids;
  for (const JobRecord& job : seen) ids.insert(job.id);
  EXPECT_EQ(ids, submitted);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i - 1].created_ms, seen[i].created_ms);
}

TEST_P(JobQueueContract, ListFiltersByStatus) {
  const JobRecord first = SubmitJob("alice");
  SubmitJob("alice");
  const JobRecord third = SubmitJob("alice");
  ASSERT_TRUE(queue_->Cancel("alice", third.id).ok());
  EXPECT_EQ(LeaseJob("w").id, first.id);
  Result<JobPage> running = queue_->List({.owner = "alice", .status = JobStatus::kRunning, .cursor = "", .limit = 20});
  Result<JobPage> queued = queue_->List({.owner = "alice", .status = JobStatus::kQueued, .cursor = "", .limit = 20});
  Result<JobPage> failed = queue_->List({.owner = "alice", .status = JobStatus::kFailed, .cursor = "", .limit = 20});
  ASSERT_TRUE(running.ok() && queued.ok() && failed.ok());
  ASSERT_EQ(running->jobs.size(), 1U);
  EXPECT_EQ(running->jobs[0].id, first.id);
  EXPECT_EQ(queued->jobs.size(), 1U);
  EXPECT_TRUE(failed->jobs.empty());
  EXPECT_TRUE(failed->next_cursor.empty());
}

TEST_P(JobQueueContract, ListRejectsAnInvalidCursorAndClampsTheLimit) {
  SubmitJob("alice");
  SubmitJob("alice");
  for (const std::string cursor : {"not a cursor", "zz", "abc"}) {
    Result<JobPage> page = queue_->List({.owner = "alice", .status = {}, .cursor = cursor, .limit = 20});
    EXPECT_EQ(page.status().code(), ErrorCode::kInvalidRequest) << cursor;
  }
  Result<JobPage> one = queue_->List({.owner = "alice", .status = {}, .cursor = "", .limit = 0});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->jobs.size(), 1U);
  EXPECT_FALSE(one->next_cursor.empty());
  Result<JobPage> all = queue_->List({.owner = "alice", .status = {}, .cursor = "", .limit = 100000});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->jobs.size(), 2U);
}

TEST_P(JobQueueContract, ListFinishedBeforeReturnsOldFinishedJobs) {
  for (int i = 0; i < 4; ++i) SubmitJob("alice", 1);
  const JobRecord done = LeaseJob("w");
  ASSERT_TRUE(queue_->Complete(done.id, "w", "results/done.mp4").ok());
  const JobRecord failed = LeaseJob("w");
  ASSERT_TRUE(queue_->Fail(failed.id, "w", Status(ErrorCode::kNoFace, "x"), false, milliseconds(0)).ok());
  LeaseJob("w");  // running: not finished
  const Millis after_all = NowMillis() + 1;

  Result<std::vector<JobRecord>> none = queue_->ListFinishedBefore(Fetch(done.id).finished_ms, 10);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  Result<std::vector<JobRecord>> old = queue_->ListFinishedBefore(after_all, 10);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  std::set<std::string> ids;
  for (const JobRecord& job : *old) ids.insert(job.id);
  EXPECT_EQ(ids, (std::set<std::string>{done.id, failed.id}));
  Result<std::vector<JobRecord>> limited = queue_->ListFinishedBefore(after_all, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1U);
}

TEST_P(JobQueueContract, PingSucceeds) { EXPECT_TRUE(queue_->Ping().ok()); }

TEST_P(JobQueueContract, JobsSurviveAReopen) {
  std::vector<JobRecord> jobs(5);
  for (JobRecord& job : jobs) job = SubmitJob("alice");
  ASSERT_TRUE(queue_->Complete(LeaseJob("w1").id, "w1", "results/0.mp4").ok());
  const JobRecord running = LeaseJob("w1", milliseconds(100));
  ASSERT_EQ(running.id, jobs[1].id);
  Reopen();
  for (const JobRecord& job : jobs) {
    Result<JobRecord> got = queue_->Get("alice", job.id);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ExpectSubmitterFields(*got, job);
  }
  EXPECT_EQ(Fetch(jobs[0].id).status, JobStatus::kSucceeded);
  EXPECT_EQ(Fetch(jobs[0].id).result_key, "results/0.mp4");
  // The dead process's lease lapses and another worker takes the job over, oldest first.
  std::this_thread::sleep_for(milliseconds(150));
  const JobRecord taken = LeaseJob("w2");
  EXPECT_EQ(taken.id, running.id);
  EXPECT_EQ(taken.worker_id, "w2");
  EXPECT_EQ(taken.attempts, 2);
  Result<QueueStats> stats = queue_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->queued, 3);
  EXPECT_EQ(stats->running, 1);
  EXPECT_EQ(stats->succeeded, 1);
}

}  // namespace
}  // namespace facefleet::jobs::contract
