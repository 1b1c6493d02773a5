// The JobQueue contract suite: the behaviour documented in src/jobs/job_queue.hpp, checked against any backend.
//
// A backend joins the suite with one line in its own test file (linked with the facefleet_job_queue_contract
// object library, see tests/jobs/CMakeLists.txt):
//
//   INSTANTIATE_TEST_SUITE_P(Redis, JobQueueContract, ::testing::Values(RedisBackend()), BackendName);
//
// Tests are independent: each gets a fresh scratch directory and a fresh, empty queue from `open`.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "jobs/job_queue.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::jobs::contract {

struct QueueBackend {
  std::string name;  // test-name suffix: letters, digits and '_' only
  // A new, empty queue whose data may live under `scratch_dir` (a fresh directory per test). nullptr = failed
  // (the backend should report why with ADD_FAILURE).
  std::function<std::unique_ptr<JobQueue>(const std::string& scratch_dir)> open;
  // The same data again, as a restarted process would see it. Called after the previous queue was destroyed.
  std::function<std::unique_ptr<JobQueue>(const std::string& scratch_dir)> reopen;
};

// Name generator for INSTANTIATE_TEST_SUITE_P: the backend's name.
std::string BackendName(const ::testing::TestParamInfo<QueueBackend>& info);
// How gtest prints the parameter in failure messages.
void PrintTo(const QueueBackend& backend, std::ostream* os);

class JobQueueContract : public ::testing::TestWithParam<QueueBackend> {
 protected:
  void SetUp() override;

  // Destroys the queue and opens the same data again (a process restart).
  void Reopen();

  // A job with every submitter field set to a distinctive value.
  static JobRecord MakeJob(const std::string& owner = "alice", const std::string& idempotency_key = "",
                           const std::string& request_hash = "");
  // Submits MakeJob(owner) (with `max_attempts`) and returns the stored job; fails the test on error.
  JobRecord SubmitJob(const std::string& owner = "alice", int max_attempts = 3);
  // Leases one job now (wait 0) for `worker`; fails the test unless one is handed out.
  JobRecord LeaseJob(const std::string& worker, std::chrono::milliseconds lease = std::chrono::seconds(30));
  // Lease with wait 0: the job or nullopt; fails the test on error.
  std::optional<JobRecord> TryLease(const std::string& worker,
                                    std::chrono::milliseconds lease = std::chrono::seconds(30));
  // The job as `owner` "" (any owner) sees it; fails the test on error.
  JobRecord Fetch(const std::string& id);

  facefleet::testing::TempDir scratch_;
  std::unique_ptr<JobQueue> queue_;
};

}  // namespace facefleet::jobs::contract
