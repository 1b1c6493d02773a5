// Job vocabulary shared by every JobQueue backend: status names, ids, clock.
#include <array>
#include <chrono>
#include <random>

#include "jobs/job_queue.hpp"

namespace facefleet::jobs {
namespace {

constexpr std::array<std::string_view, 5> kStatusNames = {"queued", "running", "succeeded", "failed", "canceled"};

}  // namespace

std::string_view JobStatusName(JobStatus status) { return kStatusNames.at(static_cast<std::size_t>(status)); }

Result<JobStatus> ParseJobStatus(std::string_view name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<JobStatus>(i);
  }
  return Status(ErrorCode::kUsage,
                "unknown job status '" + std::string(name) + "' (valid: queued, running, succeeded, failed, canceled)");
}

Millis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NewJobId() {
  // 130 random bits as 26 base32 characters; a thread-local engine seeded from the OS avoids a shared lock.
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  thread_local std::mt19937_64 engine{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  std::string id(26, 'a');
  std::uint64_t bits = 0;
  int available = 0;
  for (char& c : id) {
    if (available < 5) {
      bits = engine();
      available = 64;
    }
    c = kAlphabet[bits & 31U];
    bits >>= 5U;
    available -= 5;
  }
  return id;
}

}  // namespace facefleet::jobs
