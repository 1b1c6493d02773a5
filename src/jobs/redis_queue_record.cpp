// The job hash of the Redis queue: one Redis hash per job, one field per JobRecord member (numbers in decimal,
// booleans as "0"/"1", source_keys joined with '\n' — Submit checks they are single lines) plus the queue's
// bookkeeping: updated_ms, dead_letter and entry (the job's current stream entry id, "" when it has none).
#include <charconv>
#include <map>
#include <string_view>
#include <utility>

#include "jobs/redis_queue_internal.hpp"

namespace facefleet::jobs::redis {
namespace {

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find('\n', start);
    out.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// Reads fields by name and remembers the first that is missing or malformed.
class FieldReader {
 public:
  explicit FieldReader(const redisReply& flat) {
    for (std::size_t i = 0; i + 1 < flat.elements; i += 2) {
      fields_.emplace(Text(*flat.element[i]), Text(*flat.element[i + 1]));
    }
  }

  std::string Str(std::string_view name) {
    const auto it = fields_.find(name);
    if (it == fields_.end()) {
      Fail(name);
      return {};
    }
    return std::string(it->second);
  }

  template <typename Int>
  Int Number(std::string_view name) {
    const std::string text = Str(name);
    Int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) Fail(name);
    return value;
  }

  bool Flag(std::string_view name) { return Number<int>(name) != 0; }

  JobStatus StatusField() {
    Result<JobStatus> status = ParseJobStatus(Str("status"));
    if (!status.ok()) Fail("status");
    return status.ok() ? *status : JobStatus::kQueued;
  }

  Status Done() const {
    if (bad_.empty()) return Status::Ok();
    const auto id = fields_.find("id");
    return {ErrorCode::kInternal, "job hash " + std::string(id == fields_.end() ? "?" : id->second) +
                                      " in redis is corrupt: field '" + bad_ + "' is missing or malformed"};
  }

 private:
  void Fail(std::string_view name) {
    if (bad_.empty()) bad_ = std::string(name);
  }

  std::map<std::string_view, std::string_view> fields_;
  std::string bad_;
};

}  // namespace

Args JobFields(const JobRecord& job) {
  Args out;
  out.reserve(60);
  const auto add = [&out](const char* name, std::string value) {
    out.emplace_back(name);
    out.push_back(std::move(value));
  };
  const auto num = [](auto value) { return std::to_string(value); };
  add("id", job.id);
  add("owner", job.owner);
  add("options_json", job.options_json);
  add("source_keys", JoinLines(job.source_keys));
  add("target_key", job.target_key);
  add("output_ext", job.output_ext);
  add("is_video", num(job.is_video ? 1 : 0));
  add("max_attempts", num(job.max_attempts));
  add("idempotency_key", job.idempotency_key);
  add("request_hash", job.request_hash);
  add("webhook_url", job.webhook_url);
  add("webhook_events", job.webhook_events);
  add("status", std::string(JobStatusName(job.status)));
  add("cancel_requested", num(job.cancel_requested ? 1 : 0));
  add("attempts", num(job.attempts));
  add("frames_done", num(job.frames_done));
  add("frames_total", num(job.frames_total));
  add("result_key", job.result_key);
  add("error_code", job.error_code);
  add("error_message", job.error_message);
  add("worker_id", job.worker_id);
  add("lease_expires_ms", num(job.lease_expires_ms));
  add("not_before_ms", num(job.not_before_ms));
  add("created_ms", num(job.created_ms));
  add("started_ms", num(job.started_ms));
  add("finished_ms", num(job.finished_ms));
  add("version", num(job.version));
  add("updated_ms", num(job.created_ms));
  add("dead_letter", "0");
  add("entry", "");
  return out;
}

Result<JobRecord> DecodeJob(const redisReply& flat) {
  if (flat.type != REDIS_REPLY_ARRAY || flat.elements == 0) {
    return Status(ErrorCode::kInternal, "redis returned no job hash where one was expected");
  }
  FieldReader in(flat);
  JobRecord job;
  job.id = in.Str("id");
  job.owner = in.Str("owner");
  job.options_json = in.Str("options_json");
  job.source_keys = SplitLines(in.Str("source_keys"));
  job.target_key = in.Str("target_key");
  job.output_ext = in.Str("output_ext");
  job.is_video = in.Flag("is_video");
  job.max_attempts = in.Number<std::int32_t>("max_attempts");
  job.idempotency_key = in.Str("idempotency_key");
  job.request_hash = in.Str("request_hash");
  job.webhook_url = in.Str("webhook_url");
  job.webhook_events = in.Str("webhook_events");
  job.status = in.StatusField();
  job.cancel_requested = in.Flag("cancel_requested");
  job.attempts = in.Number<std::int32_t>("attempts");
  job.frames_done = in.Number<std::int64_t>("frames_done");
  job.frames_total = in.Number<std::int64_t>("frames_total");
  job.result_key = in.Str("result_key");
  job.error_code = in.Str("error_code");
  job.error_message = in.Str("error_message");
  job.worker_id = in.Str("worker_id");
  job.lease_expires_ms = in.Number<Millis>("lease_expires_ms");
  job.not_before_ms = in.Number<Millis>("not_before_ms");
  job.created_ms = in.Number<Millis>("created_ms");
  job.started_ms = in.Number<Millis>("started_ms");
  job.finished_ms = in.Number<Millis>("finished_ms");
  job.version = in.Number<std::int64_t>("version");
  if (Status s = in.Done(); !s.ok()) return s;
  return job;
}

}  // namespace facefleet::jobs::redis
