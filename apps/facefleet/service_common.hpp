// What `facefleet serve` and `facefleet worker` share: queue/storage flags and URLs, the worker pool, job
// metrics, the retention sweeper and signal handling.
#pragma once

#include <signal.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/flags.hpp"
#include "engine_runner.hpp"
#include "http/auth.hpp"
#include "http/rate_limit.hpp"
#include "http/webhook.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/worker_pool.hpp"
#include "metrics/metrics.hpp"
#include "storage/storage.hpp"

namespace facefleet::apps {

struct ServiceConfig {
  std::string data_dir;     // keys, webhook secret, default queue and storage, scratch files
  std::string queue_url;    // sqlite:PATH | redis://...
  std::string storage_url;  // file:DIR | s3://...
  int workers = 1;
  int max_attempts = 3;
  std::chrono::milliseconds job_timeout{3'600'000};
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds drain_timeout{60'000};
  std::chrono::hours retention{24};
  std::chrono::seconds unload_after_idle{0};
  std::string key_pepper;
  std::chrono::seconds connect_patience{60};  // retry an unreachable queue this long at start
  JobLimits limits;
};

// --data-dir, --queue, --storage, --workers, --max-attempts, --job-timeout, --lease-seconds, --drain-timeout,
// --retention-hours, --unload-after-idle, --key-pepper and the server-side input limits.
void AddServiceFlags(FlagSet& flags);
Result<ServiceConfig> ReadServiceConfig(const FlagSet& flags);

struct Backends {
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<storage::Storage> storage;
};
// Opens the queue and storage named by the config's URLs; kUsage for an unknown scheme. An unreachable queue is
// retried for config.connect_patience; a stop signal from `signals` (blocked by BlockStopSignals) ends the wait.
Result<Backends> OpenBackends(const ServiceConfig& config, const sigset_t& signals);

// The API key store: in Redis when the queue is redis:// (every API replica of a fleet sees the same keys; the
// same server, credentials and key prefix as the queue), else DATA_DIR/keys.db. With `signals`, an unreachable
// Redis is retried for config.connect_patience as OpenBackends does; without, it fails at once (kUnavailable).
Result<std::unique_ptr<http::KeyStore>> OpenKeyStore(const ServiceConfig& config, const sigset_t* signals);

// Per-key rate limits (`rate` requests per second up to `burst`; rate <= 0 = none): shared through Redis when
// the queue is redis://, so the limit holds for the whole API tier however many replicas run, else in this
// process. The Redis limiter lets requests through while Redis is unreachable (see http/rate_limit.hpp).
Result<std::unique_ptr<http::RateLimiter>> OpenRateLimiter(const ServiceConfig& config, double rate, double burst,
                                                           const sigset_t& signals);

// The pool for config.workers threads (nullptr when 0); max_jobs > 0 caps the jobs it leases in all (worker).
std::unique_ptr<jobs::WorkerPool> MakeWorkerPool(const ServiceConfig& config, Backends& backends,
                                                 jobs::JobRunner& runner, jobs::JobListener listener, int max_jobs = 0);

// Job metrics: counts by status and queue depth (read from the queue at scrape time), queue wait and run
// duration histograms, finished jobs, frames, webhook deliveries. Observe() is called on pool threads.
class ServiceMetrics {
 public:
  ServiceMetrics(metrics::Registry& registry, jobs::JobQueue& queue, const http::WebhookSender* webhooks);
  void Observe(jobs::JobEvent event, const jobs::JobRecord& job);
  void SetModelLoadSeconds(double seconds) { model_load_->With({}).Set(seconds); }
  void SetWorkers(int total, int busy);

 private:
  metrics::Family<metrics::Histogram>* queue_wait_;
  metrics::Family<metrics::Histogram>* run_duration_;
  metrics::Family<metrics::Counter>* finished_;
  metrics::Family<metrics::Counter>* retried_;
  metrics::Family<metrics::Counter>* frames_;
  metrics::Family<metrics::Gauge>* model_load_;
  metrics::Family<metrics::Gauge>* workers_;
};

// Deletes finished jobs (records and files) older than the retention period, once a minute.
class Sweeper {
 public:
  Sweeper(jobs::JobQueue& queue, storage::Storage& storage, std::chrono::hours retention);
  // One pass; returns the number of jobs removed.
  int SweepOnce();

 private:
  jobs::JobQueue& queue_;
  storage::Storage& storage_;
  const std::chrono::hours retention_;
  std::jthread thread_;
};

// Blocks SIGTERM and SIGINT in the calling thread (and every thread it starts later) and returns the set, so
// WaitForStopSignal receives them synchronously. Call before starting threads.
sigset_t BlockStopSignals();
// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForStopSignal(const sigset_t& signals);
// Like WaitForStopSignal, but also returns 0 as soon as `done()` is true (checked every `poll`).
int WaitForStopSignalOr(const sigset_t& signals, const std::function<bool()>& done, std::chrono::milliseconds poll);

}  // namespace facefleet::apps
