// /v1/jobs routes: submit (submit.cpp), status, list, result, events (SSE), cancel, delete.
//
// Ownership: every route looks jobs up with the caller's key id, so another key's job id answers 404 exactly
// like an unknown id (no existence oracle).
#include <charconv>
#include <map>
#include <thread>

#include "http/server_impl.hpp"

namespace facefleet::http {
namespace {

constexpr const char* kJobPath = R"(/v1/jobs/([a-z2-7]{26}))";
constexpr auto kEventPoll = std::chrono::milliseconds(500);  // changes made by other processes
constexpr auto kKeepAlive = std::chrono::seconds(15);

std::string SseFrame(const std::string& event, const std::string& data) {
  return "event: " + event + "\ndata: " + data + "\n\n";
}

void GetJob(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  const std::string owner = impl.Authorize(req, res);
  if (owner.empty()) return;
  auto job = impl.ctx.queue->Get(owner, req.matches[1]);
  if (!job.ok()) return WriteError(res, job.status());
  WriteJson(res, 200, JobToJson(*job, impl.ResultUrl(*job)));
}

void ListJobs(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  const std::string owner = impl.Authorize(req, res);
  if (owner.empty()) return;
  jobs::ListQuery query;
  query.owner = owner;
  if (req.has_param("status")) {
    auto status = jobs::ParseJobStatus(req.get_param_value("status"));
    if (!status.ok()) return WriteError(res, {ErrorCode::kInvalidRequest, "status: " + status.status().message()});
    query.status = *status;
  }
  query.cursor = req.get_param_value("cursor");
  if (req.has_param("limit")) {
    const std::string text = req.get_param_value("limit");
    int limit = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 100) {
      return WriteError(res, {ErrorCode::kInvalidRequest, "limit: expected an integer from 1 to 100"});
    }
    query.limit = limit;
  }
  auto page = impl.ctx.queue->List(query);
  if (!page.ok()) return WriteError(res, page.status());
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& job : page->jobs) jobs.push_back(JobToJson(job, impl.ResultUrl(job)));
  WriteJson(res, 200,
            {{"jobs", std::move(jobs)},
             {"next_cursor", page->next_cursor.empty() ? nlohmann::json() : nlohmann::json(page->next_cursor)}});
}

void GetResult(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  const std::string owner = impl.Authorize(req, res);
  if (owner.empty()) return;
  auto job = impl.ctx.queue->Get(owner, req.matches[1]);
  if (!job.ok()) return WriteError(res, job.status());
  if (job->status != jobs::JobStatus::kSucceeded) {
    return WriteError(res,
                      {ErrorCode::kConflict, "job " + job->id + " is " + std::string(jobs::JobStatusName(job->status)) +
                                                 "; the result exists once it has succeeded"});
  }
  auto info = impl.ctx.storage->Stat(job->result_key);
  if (!info.ok()) {
    if (info.status().code() != ErrorCode::kNotFound) return WriteError(res, info.status());
    res.status = 410;  // the retention sweeper removed it
    return WriteJson(res, 410, {{"error", {{"code", "not_found"}, {"message", "the result has expired"}}}});
  }
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {".jpg", "image/jpeg"}, {".png", "image/png"},       {".webp", "image/webp"},      {".bmp", "image/bmp"},
      {".mp4", "video/mp4"},  {".mov", "video/quicktime"}, {".mkv", "video/x-matroska"}, {".webm", "video/webm"}};
  const auto type = kTypes.find(job->output_ext);
  res.set_header("Content-Disposition", "inline; filename=\"" + job->id + job->output_ext + "\"");
  res.set_header("Accept-Ranges", "bytes");
  storage::Storage* storage = impl.ctx.storage;
  res.set_content_provider(
      info->size, type == kTypes.end() ? "application/octet-stream" : type->second,
      [storage, key = job->result_key](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        // The library asks for [offset, offset + length) of the (ranged) body; stream it without buffering.
        return storage
            ->Read(key, offset, length,
                   [&sink](std::string_view bytes) { return sink.write(bytes.data(), bytes.size()); })
            .ok();
      });
}

// Server-Sent Events: `status` on every status change, `progress` while frames advance, `completed` (with the
// final job) when it finishes, then the stream ends. Comments keep idle connections open through proxies.
void StreamEvents(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  const std::string owner = impl.Authorize(req, res);
  if (owner.empty()) return;
  auto job = impl.ctx.queue->Get(owner, req.matches[1]);
  if (!job.ok()) return WriteError(res, job.status());
  if (impl.event_streams.fetch_add(1) >= impl.config.max_event_streams) {
    impl.event_streams.fetch_sub(1);
    res.set_header("Retry-After", "5");
    return WriteError(res, {ErrorCode::kUnavailable, "too many open event streams; poll GET /v1/jobs/{id} instead"});
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  struct State {
    std::string id;
    std::string owner;
    jobs::JobStatus status = jobs::JobStatus::kQueued;
    std::int64_t frames = -1;
    bool first = true;
    std::uint64_t generation = 0;
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  };
  auto state = std::make_shared<State>();
  state->id = job->id;
  state->owner = owner;
  ApiServer::Impl* self = &impl;
  res.set_chunked_content_provider(
      "text/event-stream",
      [self, state](std::size_t, httplib::DataSink& sink) {
        auto current = self->ctx.queue->Get(state->owner, state->id);
        if (!current.ok()) {  // deleted while streaming
          sink.done();
          return true;
        }
        std::string out;
        const auto json = [&] { return JobToJson(*current, self->ResultUrl(*current)).dump(); };
        if (state->first || current->status != state->status) out += SseFrame("status", json());
        if (current->frames_done != state->frames && current->frames_total > 0) {
          out += SseFrame(
              "progress",
              nlohmann::json({{"frames_done", current->frames_done}, {"frames_total", current->frames_total}}).dump());
        }
        state->first = false;
        state->status = current->status;
        state->frames = current->frames_done;
        if (jobs::IsFinished(current->status)) {
          out += SseFrame("completed", json());
          sink.write(out.data(), out.size());
          sink.done();
          return true;
        }
        if (out.empty() && std::chrono::steady_clock::now() - state->last_write > kKeepAlive) out = ": keep-alive\n\n";
        if (!out.empty()) {
          state->last_write = std::chrono::steady_clock::now();
          if (!sink.write(out.data(), out.size())) return false;
        }
        state->generation = self->ctx.notifier != nullptr ? self->ctx.notifier->Wait(state->generation, kEventPoll)
                                                          : (std::this_thread::sleep_for(kEventPoll), 0);
        return true;
      },
      [self](bool) { self->event_streams.fetch_sub(1); });
}

void CancelJob(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  const std::string owner = impl.Authorize(req, res);
  if (owner.empty()) return;
  auto job = impl.ctx.queue->Cancel(owner, req.matches[1]);
  if (!job.ok()) return WriteError(res, job.status());
  // A job running in this process stops now; one on another worker stops at its next heartbeat.
  if (job->status == jobs::JobStatus::kRunning && impl.ctx.cancel_local) impl.ctx.cancel_local(job->id);
  if (job->status == jobs::JobStatus::kCanceled) impl.owner->EmitWebhook(*job, "completed");
  if (impl.ctx.notifier != nullptr) impl.ctx.notifier->Notify();
  WriteJson(res, 202, JobToJson(*job, ""));
}

void DeleteJob(ApiServer::Impl& impl, const httplib::Request& req, httplib::Response& res) {
  const std::string owner = impl.Authorize(req, res);
  if (owner.empty()) return;
  auto job = impl.ctx.queue->Get(owner, req.matches[1]);
  if (!job.ok()) return WriteError(res, job.status());
  if (job->status == jobs::JobStatus::kRunning && impl.ctx.cancel_local) impl.ctx.cancel_local(job->id);
  if (Status deleted = impl.ctx.queue->Delete(owner, job->id); !deleted.ok()) return WriteError(res, deleted);
  if (Status removed = impl.ctx.storage->DeletePrefix("jobs/" + job->id + "/"); !removed.ok()) {
    return WriteError(res, removed);  // the record is gone; the sweeper retries orphaned files
  }
  if (impl.ctx.notifier != nullptr) impl.ctx.notifier->Notify();
  res.status = 204;
}

}  // namespace

void RegisterJobRoutes(ApiServer::Impl& impl) {
  httplib::Server& server = impl.server;
  ApiServer::Impl* self = &impl;
  const std::string job = kJobPath;
  server.Post("/v1/jobs", [self](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) { HandleSubmit(*self, req, res, reader); });
  server.Get("/v1/jobs", [self](const httplib::Request& req, httplib::Response& res) { ListJobs(*self, req, res); });
  server.Get(job, [self](const httplib::Request& req, httplib::Response& res) { GetJob(*self, req, res); });
  server.Get(job + "/result",
             [self](const httplib::Request& req, httplib::Response& res) { GetResult(*self, req, res); });
  server.Get(job + "/events",
             [self](const httplib::Request& req, httplib::Response& res) { StreamEvents(*self, req, res); });
  server.Post(job + "/cancel",
              [self](const httplib::Request& req, httplib::Response& res) { CancelJob(*self, req, res); });
  server.Delete(job, [self](const httplib::Request& req, httplib::Response& res) { DeleteJob(*self, req, res); });
  // Syntactically wrong ids get the same 404 as unknown ones.
  server.Get(R"(/v1/jobs/[^/]+(/result|/events)?)", [](const httplib::Request&, httplib::Response& res) {
    WriteError(res, {ErrorCode::kNotFound, "no such job"});
  });
}

}  // namespace facefleet::http
