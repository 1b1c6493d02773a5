// Runs the JobQueue contract suite against the SQLite backend.
#include "job_queue_contract.hpp"

namespace facefleet::jobs::contract {
namespace {

std::unique_ptr<JobQueue> OpenInScratch(const std::string& scratch_dir) {
  // A short poll keeps cross-process cases quick; in-process wake-ups do not depend on it.
  Result<std::unique_ptr<JobQueue>> queue =
      OpenSqliteQueue({.path = scratch_dir + "/queue.db", .poll = std::chrono::milliseconds(20)});
  if (!queue.ok()) {
    ADD_FAILURE() << queue.status().ToString();
    return nullptr;
  }
  return std::move(*queue);
}

QueueBackend SqliteBackend() { return {.name = "sqlite", .open = OpenInScratch, .reopen = OpenInScratch}; }

INSTANTIATE_TEST_SUITE_P(Sqlite, JobQueueContract, ::testing::Values(SqliteBackend()), BackendName);

}  // namespace
}  // namespace facefleet::jobs::contract
