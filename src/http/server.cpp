// Transport: cpp-httplib setup, limits, JSON errors, request metrics; the routes live in routes_*.cpp.
#include <cmath>
#include <ctime>

#include <sys/socket.h>

#include "core/log.hpp"
#include "http/server_impl.hpp"
#include "http/webhook.hpp"

namespace facefleet::http {
namespace {

thread_local std::chrono::steady_clock::time_point request_started;

std::string Rfc3339(jobs::Millis ms) {
  if (ms <= 0) return "";
  const std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return text;
}

nlohmann::json TimeOrNull(jobs::Millis ms) { return ms > 0 ? nlohmann::json(Rfc3339(ms)) : nlohmann::json(); }

}  // namespace

void ChangeNotifier::Notify() {
  {
    std::lock_guard lock(mu_);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
}

std::uint64_t ChangeNotifier::Wait(std::uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return generation_.load() != seen; });
  return generation_.load();
}

void WriteJson(httplib::Response& res, int http_status, const nlohmann::json& body) {
  res.status = http_status;
  res.set_content(body.dump(), "application/json");
}

void WriteError(httplib::Response& res, const Status& status) {
  const ErrorInfo& info = error_info(status.code());
  WriteJson(res, info.http_status, {{"error", {{"code", std::string(info.name)}, {"message", status.message()}}}});
}

nlohmann::json JobToJson(const jobs::JobRecord& job, const std::string& result_url) {
  nlohmann::json out = {
      {"id", job.id},
      {"status", std::string(jobs::JobStatusName(job.status))},
      {"progress", {{"frames_done", job.frames_done}, {"frames_total", job.frames_total}}},
      {"attempts", job.attempts},
      {"max_attempts", job.max_attempts},
      {"kind", job.is_video ? "video" : "image"},
      {"created_at", TimeOrNull(job.created_ms)},
      {"started_at", TimeOrNull(job.started_ms)},
      {"finished_at", TimeOrNull(job.finished_ms)},
      {"cancel_requested", job.cancel_requested},
      {"error", nlohmann::json()},
      {"result_url", nlohmann::json()},
  };
  if (!job.error_code.empty()) out["error"] = {{"code", job.error_code}, {"message", job.error_message}};
  if (job.status == jobs::JobStatus::kSucceeded && !result_url.empty()) out["result_url"] = result_url;
  if (auto options = nlohmann::json::parse(job.options_json, nullptr, false); !options.is_discarded()) {
    out["options"] = std::move(options);
  }
  return out;
}

std::string JobJson(const jobs::JobRecord& job, const std::string& result_url) {
  return JobToJson(job, result_url).dump();
}

std::string RouteLabel(const std::string& method, const std::string& path) {
  static constexpr std::string_view kJobs = "/v1/jobs/";
  if (path.rfind(kJobs, 0) == 0) {
    const auto slash = path.find('/', kJobs.size());
    const std::string tail = slash == std::string::npos ? "" : path.substr(slash);
    if (tail.empty() || tail == "/result" || tail == "/events" || tail == "/cancel") {
      return method + " /v1/jobs/{id}" + tail;
    }
    return "other";
  }
  for (const char* known : {"/v1/jobs", "/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/"}) {
    if (path == known) return method + " " + known;
  }
  return "other";
}

std::string ApiServer::Impl::Authorize(const httplib::Request& req, httplib::Response& res) const {
  const std::string token = BearerToken(req.get_header_value("Authorization"));
  if (token.empty()) {
    res.set_header("WWW-Authenticate", "Bearer");
    WriteError(res, {ErrorCode::kUnauthenticated, "missing 'Authorization: Bearer <API key>' header"});
    return "";
  }
  auto key_id = ctx.keys->Verify(token);
  if (!key_id.ok()) {
    // A key store that cannot be read (Redis down) answers 503: the key may well be valid.
    if (key_id.status().code() == ErrorCode::kUnauthenticated) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    }
    WriteError(res, key_id.status());
    return "";
  }
  const RateDecision rate = limiter->Acquire(*key_id);
  if (rate.unchecked) rate_unchecked->With({}).Increment();
  if (!rate.allowed()) {
    res.set_header("Retry-After", std::to_string(static_cast<int>(std::ceil(rate.retry_after))));
    WriteError(res, {ErrorCode::kRateLimited,
                     "rate limit of " + std::to_string(config.rate_limit) + " requests/s exceeded for this key"});
    return "";
  }
  return *key_id;
}

std::string ApiServer::Impl::ResultUrl(const jobs::JobRecord& job) const {
  if (job.status != jobs::JobStatus::kSucceeded) return "";
  if (auto url = ctx.storage->PresignGet(job.result_key, config.result_url_ttl); url.ok() && !url->empty()) {
    return *url;
  }
  return "/v1/jobs/" + job.id + "/result";
}

ApiServer::ApiServer(ServerConfig config, ServiceContext context)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(context))) {
  impl_->owner = this;
  metrics::Registry& registry = *impl_->ctx.metrics;
  impl_->requests = &registry.AddCounter("facefleet_http_requests_total", "HTTP requests by route and status code",
                                         {"route", "code"});
  impl_->latency = &registry.AddHistogram("facefleet_http_request_duration_seconds",
                                          "HTTP request handling time by route", metrics::LatencyBuckets(), {"route"});
  impl_->submitted = &registry.AddCounter("facefleet_jobs_submitted_total", "jobs accepted (202) by kind", {"kind"});
  impl_->uploaded_bytes = &registry.AddCounter("facefleet_upload_bytes_total", "bytes of job inputs received");
  impl_->rate_unchecked = &registry.AddCounter(
      "facefleet_rate_limit_unchecked_total",
      "requests let through without a rate-limit check because the shared limiter (Redis) was unreachable");
  impl_->rate_unchecked->With({});  // exposed as 0 from the start
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start() {
  httplib::Server& server = impl_->server;
  const ServerConfig& config = impl_->config;
  const int threads = config.http_threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(10000);  // the library default (5) reconnects busy clients all the time
  server.set_keep_alive_timeout(30);
  server.set_read_timeout(config.read_timeout);
  server.set_write_timeout(config.write_timeout);
  server.set_payload_max_length(config.max_upload_bytes);
  server.set_socket_options([impl = impl_.get()](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    impl->listen_fd = sock;
  });
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_started = std::chrono::steady_clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0) return httplib::Server::HandlerResponse::Unhandled;
    ErrorCode code = ErrorCode::kInvalidRequest;
    std::string message = "malformed request";
    switch (res.status) {
      case 404:
        code = ErrorCode::kNotFound, message = "no such route";
        break;
      case 413:
        code = ErrorCode::kPayloadTooLarge, message = "upload larger than the server's limit";
        break;
      case 414:
        message = "request URI too long";
        break;
      case 405:
        message = "method not allowed";
        break;
      default:
        break;
    }
    const int status = res.status;
    WriteError(res, {code, message});
    res.status = status;
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(on_error);
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(std::move(error));
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    core::Log(core::LogLevel::kError, "HTTP handler failed: " + what);
    WriteError(res, {ErrorCode::kInternal, "internal error"});
  });
  server.set_logger([impl = impl_.get()](const httplib::Request& req, const httplib::Response& res) {
    const std::string route = RouteLabel(req.method, req.path);
    impl->requests->With({route, std::to_string(res.status)}).Increment();
    impl->latency->With({route}).Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request_started).count());
  });
  if (!config.ops_only) RegisterJobRoutes(*impl_);
  RegisterSystemRoutes(*impl_);

  const int bound = config.port == 0 ? server.bind_to_any_port(config.host)
                                     : (server.bind_to_port(config.host, config.port) ? config.port : -1);
  if (bound < 0) {
    return {ErrorCode::kUnavailable,
            "cannot listen on " + config.host + ":" + std::to_string(config.port) + " (address in use or not local?)"};
  }
  // The library listens with a backlog of 5; a burst of clients would see SYN retries (1 s). Raise it.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 1024);
  port_ = bound;
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until the accept loop runs: return only once it does, so that a Stop()
  // right after Start() cannot leave the loop running and join() hanging.
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::Ok();
}

void ApiServer::Stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

std::vector<const char*> WebhookEventsFor(jobs::JobEvent event) {
  switch (event) {
    case jobs::JobEvent::kStarted:
    case jobs::JobEvent::kRetrying:
    case jobs::JobEvent::kReleased:
      return {"status"};
    case jobs::JobEvent::kProgress:
      return {"progress"};
    case jobs::JobEvent::kSucceeded:
    case jobs::JobEvent::kFailed:
    case jobs::JobEvent::kCanceled:
      return {"status", "completed"};
  }
  return {};
}

void EmitJobWebhook(WebhookSender* sender, const jobs::JobRecord& job, const std::string& event,
                    const std::string& result_url) {
  if (sender == nullptr || job.webhook_url.empty()) return;
  const std::string events = "," + job.webhook_events + ",";
  if (events.find("," + event + ",") == std::string::npos) return;
  const nlohmann::json body = {{"event", event}, {"job", JobToJson(job, result_url)}};
  sender->Enqueue({job.webhook_url, event, body.dump(), job.id});
}

void ApiServer::EmitWebhook(const jobs::JobRecord& job, const std::string& event) {
  EmitJobWebhook(impl_->ctx.webhooks, job, event, impl_->ResultUrl(job));
}

}  // namespace facefleet::http
