// ApiServer — the job service's HTTP API v1 (docs: src/http/openapi.json, served at /v1/openapi.json).
//
// Split like a small llama.cpp server: transport (server.cpp: cpp-httplib, thread pool, limits, JSON errors,
// request metrics), routes (routes_jobs.cpp, routes_system.cpp) and the task queue (jobs::JobQueue, run by a
// jobs::WorkerPool that the embedding command owns). Routes never run a job; they only talk to the queue and
// storage, so an API-only tier (`--workers 0`) is the same code.
//
// Thread model: cpp-httplib serves each connection on a thread from a fixed pool (`http_threads`); handlers
// block only on the queue, storage and their own client. SSE streams hold a pool thread each and are capped at
// `max_event_streams`. ServiceContext members are thread-safe (see their headers).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/auth.hpp"
#include "http/rate_limit.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/worker_pool.hpp"
#include "metrics/metrics.hpp"
#include "storage/storage.hpp"

namespace facefleet::http {

class WebhookSender;

// What a submitted job becomes after the server checked its inputs (provided by the command that embeds the
// server, because only it knows the engine): the output extension and whether the target is a video.
struct JobSpec {
  std::string output_ext;
  bool is_video = false;
};

// Checks one submission: the options JSON (as sent) and the stored inputs as local files. Returns the spec or an
// error whose code maps to the HTTP status (usage 422 naming options.<field>, unsupported_media 415, limit 422).
using SubmissionValidator = std::function<Result<JobSpec>(
    const std::string& options_json, const std::vector<std::string>& source_paths, const std::string& target_path)>;

// Wakes SSE streams when a job changes in this process (other processes' changes are seen by polling).
class ChangeNotifier {
 public:
  void Notify();
  // Waits until a Notify after `seen` or the timeout; returns the current generation.
  std::uint64_t Wait(std::uint64_t seen, std::chrono::milliseconds timeout);
  std::uint64_t generation() const { return generation_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<std::uint64_t> generation_{0};
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (see ApiServer::port())
  int http_threads = 64;
  std::uint64_t max_upload_bytes = 512ULL << 20;  // per request; 413 above
  int max_sources = 8;
  std::chrono::seconds read_timeout{30};  // a stalled client is dropped after this long without a byte
  std::chrono::seconds write_timeout{30};
  int max_event_streams = 32;
  int max_attempts = 3;
  double rate_limit = 50;  // requests per second per key (0 = off)
  double rate_burst = 100;
  int max_active_jobs = 16;  // queued + running per key
  std::chrono::seconds result_url_ttl{3600};
  bool allow_private_webhooks = false;
  std::string scratch_dir;  // validation copies of remote inputs
  bool ops_only = false;    // `facefleet worker`: only /healthz, /readyz and /metrics
};

struct ServiceContext {
  jobs::JobQueue* queue = nullptr;
  storage::Storage* storage = nullptr;
  KeyStore* keys = nullptr;
  // Per-key rate limits; null = a LocalRateLimiter the server builds from ServerConfig's rate_limit and
  // rate_burst. The embedding command passes a shared (Redis) one when it runs several API replicas.
  RateLimiter* limiter = nullptr;
  metrics::Registry* metrics = nullptr;
  WebhookSender* webhooks = nullptr;  // null = webhooks refused at submission
  ChangeNotifier* notifier = nullptr;
  SubmissionValidator validate;
  std::function<Status()> ready;                                // models loaded etc.; null = always ready
  std::function<bool(const std::string& job_id)> cancel_local;  // stop a job running in this process
};

class ApiServer {
 public:
  ApiServer(ServerConfig config, ServiceContext context);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving on a background thread. kUnavailable when the address cannot be bound.
  Status Start();
  int port() const { return port_; }

  // Stop accepting work: POST /v1/jobs answers 503 and /readyz 503; reads keep working.
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

  // Stops serving and joins the server thread.
  void Stop();

  // Sends the job's webhook for `event` if it asked for it ("status", "progress", "completed").
  void EmitWebhook(const jobs::JobRecord& job, const std::string& event);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> draining_{false};
  int port_ = 0;
  std::thread thread_;
};

// The webhook events ("status", "progress", "completed") a worker-pool event triggers.
std::vector<const char*> WebhookEventsFor(jobs::JobEvent event);

// Queues the job's webhook for `event` ("status", "progress", "completed") when the job asked for that event.
// `result_url` is put in the body of succeeded jobs. A null sender does nothing.
void EmitJobWebhook(WebhookSender* sender, const jobs::JobRecord& job, const std::string& event,
                    const std::string& result_url);

// The job's public JSON representation (GET /v1/jobs/{id}, webhooks, SSE), with result_url when succeeded.
std::string JobJson(const jobs::JobRecord& job, const std::string& result_url);

}  // namespace facefleet::http
