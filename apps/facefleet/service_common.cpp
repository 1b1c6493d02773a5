#include "service_common.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "core/log.hpp"
#include "facefleet/version.hpp"
#include "jobs/redis_queue.hpp"
#include "storage/s3_storage.hpp"

namespace facefleet::apps {
namespace {

// sigtimedwait's timeout.
timespec ToTimespec(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<long>(ms.count() % 1000) * 1'000'000};
}

std::string DefaultDataDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");  // NOLINT(concurrency-mt-unsafe): read once at start-up
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/facefleet";
  const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe)
  return std::string(home != nullptr ? home : ".") + "/.local/share/facefleet";
}

double Seconds(jobs::Millis ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

void AddServiceFlags(FlagSet& flags) {
  const JobLimits limits;
  flags.Add({"--data-dir", "DIR", "keys, secrets and the default queue and storage", DefaultDataDir()});
  flags.Add({"--queue", "URL",
             "job queue: sqlite:PATH | redis://[user:pass@]host:port/db (password also from "
             "FACEFLEET_REDIS_PASSWORD)",
             "sqlite:DATA_DIR/jobs.db"});
  flags.Add({"--storage", "URL",
             "job files: file:DIR | s3://bucket/prefix?endpoint=URL&region=R&path_style=1 "
             "(credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
             "file:DATA_DIR/objects"});
  flags.Add({"--connect-timeout", "SECONDS", "how long to retry an unreachable queue at start", "60"});
  flags.Add({"--workers", "N", "jobs run at once in this process (0 = API only)", "1"});
  flags.Add({"--max-attempts", "N",
             "runs per job before it fails (infrastructure errors are retried); set where jobs are submitted", "3"});
  flags.Add({"--job-timeout", "SECONDS", "a job running longer fails with limit_exceeded", "3600"});
  flags.Add({"--lease-seconds", "SECONDS", "a job whose worker stops heartbeating is re-run after this", "30"});
  flags.Add({"--drain-timeout", "SECONDS", "on SIGTERM: how long running jobs may finish before release", "60"});
  flags.Add({"--retention-hours", "HOURS", "finished jobs and their files are deleted after this", "24"});
  flags.Add({"--unload-after-idle", "SECONDS", "free the models after this long without jobs (0 = never)", "0"});
  flags.Add({"--key-pepper", "SECRET", "HMAC key for stored API-key hashes (set it in production)", ""});
  flags.Add(
      {"--max-image-pixels", "N", "largest image accepted (header pixels)", std::to_string(limits.max_image_pixels)});
  flags.Add({"--max-video-frames", "N", "most video frames a job may swap", std::to_string(limits.max_video_frames)});
  flags.Add({"--max-video-seconds", "S", "longest video a job may swap",
             std::to_string(static_cast<int>(limits.max_video_seconds))});
}

Result<ServiceConfig> ReadServiceConfig(const FlagSet& flags) {
  ServiceConfig config;
  Checker c;
  config.data_dir = flags.Get("--data-dir");
  const auto expand = [&](std::string url) {
    if (const auto at = url.find("DATA_DIR"); at != std::string::npos) url.replace(at, 8, config.data_dir);
    return url;
  };
  config.queue_url = expand(flags.Get("--queue"));
  config.storage_url = expand(flags.Get("--storage"));
  config.workers = static_cast<int>(c.Take(flags.GetInt("--workers", 0, 256)));
  config.max_attempts = static_cast<int>(c.Take(flags.GetInt("--max-attempts", 1, 100)));
  config.job_timeout = std::chrono::seconds(c.Take(flags.GetInt("--job-timeout", 1, 7 * 86400)));
  config.lease = std::chrono::seconds(c.Take(flags.GetInt("--lease-seconds", 1, 3600)));
  config.drain_timeout = std::chrono::seconds(c.Take(flags.GetInt("--drain-timeout", 0, 86400)));
  config.retention = std::chrono::hours(c.Take(flags.GetInt("--retention-hours", 1, 24 * 365)));
  config.unload_after_idle = std::chrono::seconds(c.Take(flags.GetInt("--unload-after-idle", 0, 86400 * 30)));
  config.key_pepper = flags.Get("--key-pepper");
  config.connect_patience = std::chrono::seconds(c.Take(flags.GetInt("--connect-timeout", 0, 3600)));
  config.limits.max_image_pixels = c.Take(flags.GetInt("--max-image-pixels", 1, kMaxImagePixelsLimit));
  config.limits.max_video_frames = c.Take(flags.GetInt("--max-video-frames", 1, INT64_MAX));
  config.limits.max_video_seconds = c.Take(flags.GetFloat("--max-video-seconds", 0.001, 1e9));
  if (!c.status().ok()) return c.status();
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir + "/scratch", ec);
  if (ec) return Status(ErrorCode::kOutputFailed, config.data_dir + ": cannot create data directory: " + ec.message());
  return config;
}

namespace {

// Retries `open` with back-off while it reports kUnavailable (a backend still starting), up to `patience`.
// SIGTERM/SIGINT (blocked, in `signals`) end the wait at once with kCanceled.
template <typename T>
Result<T> OpenWithRetry(const std::string& what, std::chrono::seconds patience, const sigset_t& signals,
                        const std::function<Result<T>()>& open) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  auto delay = std::chrono::milliseconds(200);
  for (;;) {
    auto opened = open();
    const auto now = std::chrono::steady_clock::now();
    if (opened.ok() || opened.status().code() != ErrorCode::kUnavailable || now >= deadline) return opened;
    core::LogWarn(what + " not reachable yet (" + opened.status().message() + "); retrying");
    // The last wait ends at the deadline, with one more try there: the whole patience is used.
    const auto pause = std::min(delay, std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
    const timespec wait = ToTimespec(pause);
    if (sigtimedwait(&signals, nullptr, &wait) > 0) {
      return Status(ErrorCode::kCanceled, "stopped by a signal while waiting for " + what);
    }
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
}

bool IsRedis(const std::string& queue_url) { return queue_url.rfind("redis://", 0) == 0; }

// The Redis server (and key prefix) of a redis:// --queue: the queue, the key store and the rate limiter share it.
Result<jobs::RedisQueueOptions> QueueRedis(const std::string& queue_url) {
  auto options = jobs::ParseRedisUrl(queue_url);
  if (!options.ok()) return Status(options.status().code(), "--queue: " + options.status().message());
  return options;
}

}  // namespace

Result<Backends> OpenBackends(const ServiceConfig& config, const sigset_t& signals) {
  Backends backends;
  const std::string& queue_url = config.queue_url;
  if (queue_url.rfind("sqlite:", 0) == 0) {
    auto queue = jobs::OpenSqliteQueue({queue_url.substr(7)});
    if (!queue.ok()) return queue.status();
    backends.queue = std::move(*queue);
  } else if (IsRedis(queue_url)) {
    auto options = QueueRedis(queue_url);
    if (!options.ok()) return options.status();
    auto queue = OpenWithRetry<std::unique_ptr<jobs::JobQueue>>("Redis at " + jobs::DescribeRedis(*options),
                                                                config.connect_patience, signals,
                                                                [&] { return jobs::OpenRedisQueue(*options); });
    if (!queue.ok()) return queue.status();
    backends.queue = std::move(*queue);
  } else {
    return Status(ErrorCode::kUsage,
                  "--queue: unsupported URL (expected sqlite:PATH or redis://[user:pass@]host:port/db)");
  }
  const std::string& storage_url = config.storage_url;
  if (storage_url.rfind("file:", 0) == 0) {
    auto storage = storage::OpenFileStorage({storage_url.substr(5)});
    if (!storage.ok()) return storage.status();
    backends.storage = std::move(*storage);
  } else if (storage_url.rfind("s3://", 0) == 0) {
    auto options = storage::ParseS3Url(storage_url);
    if (!options.ok()) return Status(options.status().code(), "--storage: " + options.status().message());
    auto storage = storage::OpenS3Storage(*options);
    if (!storage.ok()) return storage.status();
    backends.storage = std::move(*storage);
  } else {
    return Status(ErrorCode::kUsage, "--storage: unsupported URL '" + storage_url +
                                         "' (expected file:DIR or s3://bucket/prefix?endpoint=...&region=...)");
  }
  return backends;
}

Result<std::unique_ptr<http::KeyStore>> OpenKeyStore(const ServiceConfig& config, const sigset_t* signals) {
  if (!IsRedis(config.queue_url)) return http::OpenSqliteKeyStore(config.data_dir + "/keys.db", config.key_pepper);
  auto queue = QueueRedis(config.queue_url);
  if (!queue.ok()) return queue.status();
  http::RedisKeyStoreOptions options;
  options.connection = static_cast<const redis::ConnectionOptions&>(*queue);
  options.prefix = queue->prefix;
  options.pepper = config.key_pepper;
  const auto open = [&] { return http::OpenRedisKeyStore(options); };
  if (signals == nullptr) return open();
  return OpenWithRetry<std::unique_ptr<http::KeyStore>>("Redis (API keys) at " + redis::Describe(options.connection),
                                                        config.connect_patience, *signals, open);
}

Result<std::unique_ptr<http::RateLimiter>> OpenRateLimiter(const ServiceConfig& config, double rate, double burst,
                                                           const sigset_t& signals) {
  if (!IsRedis(config.queue_url) || rate <= 0) {
    return std::unique_ptr<http::RateLimiter>(std::make_unique<http::LocalRateLimiter>(rate, burst));
  }
  auto queue = QueueRedis(config.queue_url);
  if (!queue.ok()) return queue.status();
  http::RedisRateLimiterOptions options;
  options.connection = static_cast<const redis::ConnectionOptions&>(*queue);
  // Every request waits for its check: an unresponsive Redis may hold it this long before it is let through.
  options.connection.connect_timeout = std::chrono::milliseconds(500);
  options.connection.command_timeout = std::chrono::milliseconds(500);
  options.prefix = queue->prefix;
  options.rate = rate;
  options.burst = burst;
  return OpenWithRetry<std::unique_ptr<http::RateLimiter>>(
      "Redis (rate limits) at " + redis::Describe(options.connection), config.connect_patience, signals,
      [&] { return http::OpenRedisRateLimiter(options); });
}

std::unique_ptr<jobs::WorkerPool> MakeWorkerPool(const ServiceConfig& config, Backends& backends,
                                                 jobs::JobRunner& runner, jobs::JobListener listener, int max_jobs) {
  if (config.workers == 0) return nullptr;
  jobs::WorkerPoolOptions options;
  options.workers = config.workers;
  options.max_jobs = max_jobs;
  // Unique per process incarnation: a restarted process never mistakes its predecessor's leases for its own.
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  options.worker_id = std::string(host) + "-" + std::to_string(::getpid()) + "-" + jobs::NewJobId().substr(0, 6);
  options.lease = config.lease;
  options.heartbeat = std::min<std::chrono::milliseconds>(config.lease / 3, std::chrono::milliseconds(500));
  options.job_timeout = config.job_timeout;
  options.scratch_dir = config.data_dir + "/scratch";
  return std::make_unique<jobs::WorkerPool>(*backends.queue, *backends.storage, runner, options, std::move(listener));
}

ServiceMetrics::ServiceMetrics(metrics::Registry& registry, jobs::JobQueue& queue,
                               const http::WebhookSender* webhooks) {
  auto& jobs_by_status = registry.AddGauge("facefleet_jobs", "jobs in the queue's store by status", {"status"});
  auto& depth = registry.AddGauge("facefleet_queue_depth", "jobs waiting to run (queued, including retry back-off)");
  auto& dead = registry.AddGauge("facefleet_dead_letter_jobs", "jobs that failed for good (dead letters)");
  auto& deliveries =
      registry.AddGauge("facefleet_webhook_deliveries", "webhook deliveries since start by outcome", {"outcome"});
  auto& lag = registry.AddGauge("facefleet_queue_lag",
                                "Redis stream entries not yet delivered to a worker (what KEDA's lagCount reads)");
  auto& pending = registry.AddGauge("facefleet_queue_pending", "Redis stream entries delivered and not acknowledged");
  registry.AddCollector([&queue, &lag, &pending] {
    if (auto info = jobs::RedisGroupInfo(queue); info.ok()) {
      lag.With({}).Set(static_cast<double>(info->lag.value_or(info->length)));
      pending.With({}).Set(static_cast<double>(info->pending));
    }
  });
  registry.AddCollector([&queue, &jobs_by_status, &depth, &dead, &deliveries, webhooks] {
    if (auto stats = queue.Stats(); stats.ok()) {
      jobs_by_status.With({"queued"}).Set(static_cast<double>(stats->queued));
      jobs_by_status.With({"running"}).Set(static_cast<double>(stats->running));
      jobs_by_status.With({"succeeded"}).Set(static_cast<double>(stats->succeeded));
      jobs_by_status.With({"failed"}).Set(static_cast<double>(stats->failed));
      jobs_by_status.With({"canceled"}).Set(static_cast<double>(stats->canceled));
      depth.With({}).Set(static_cast<double>(stats->queued));
      dead.With({}).Set(static_cast<double>(stats->dead_letters));
    }
    if (webhooks != nullptr) {
      const auto s = webhooks->stats();
      deliveries.With({"delivered"}).Set(static_cast<double>(s.delivered));
      deliveries.With({"failed"}).Set(static_cast<double>(s.failed));
      deliveries.With({"retried"}).Set(static_cast<double>(s.retried));
      deliveries.With({"dropped"}).Set(static_cast<double>(s.dropped));
    }
  });
  queue_wait_ = &registry.AddHistogram("facefleet_job_queue_wait_seconds", "time from submission to a worker starting",
                                       metrics::DurationBuckets());
  run_duration_ = &registry.AddHistogram("facefleet_job_run_duration_seconds", "time a job ran, by final status",
                                         metrics::DurationBuckets(), {"status"});
  finished_ = &registry.AddCounter("facefleet_jobs_finished_total", "jobs finished by final status", {"status"});
  retried_ = &registry.AddCounter("facefleet_job_retries_total", "job attempts that failed and were re-queued");
  frames_ = &registry.AddCounter("facefleet_frames_processed_total", "video frames swapped (images count 1)");
  model_load_ = &registry.AddGauge("facefleet_model_load_seconds", "time the last model load took");
  workers_ = &registry.AddGauge("facefleet_workers", "job worker threads in this process by state", {"state"});
  registry.AddGauge("facefleet_build_info", "facefleet version", {"version"}).With({Version()}).Set(1);
}

void ServiceMetrics::Observe(jobs::JobEvent event, const jobs::JobRecord& job) {
  switch (event) {
    case jobs::JobEvent::kStarted:
      queue_wait_->With({}).Observe(std::max(0.0, Seconds(job.started_ms - job.created_ms)));
      break;
    case jobs::JobEvent::kRetrying:
      retried_->With({}).Increment();
      break;
    case jobs::JobEvent::kSucceeded:
    case jobs::JobEvent::kFailed:
    case jobs::JobEvent::kCanceled: {
      const std::string status(jobs::JobStatusName(job.status));
      finished_->With({status}).Increment();
      if (job.started_ms > 0)
        run_duration_->With({status}).Observe(std::max(0.0, Seconds(job.finished_ms - job.started_ms)));
      if (event == jobs::JobEvent::kSucceeded)
        frames_->With({}).Increment(static_cast<double>(std::max<std::int64_t>(1, job.frames_done)));
      break;
    }
    default:
      break;
  }
}

void ServiceMetrics::SetWorkers(int total, int busy) {
  workers_->With({"busy"}).Set(busy);
  workers_->With({"idle"}).Set(total - busy);
}

Sweeper::Sweeper(jobs::JobQueue& queue, storage::Storage& storage, std::chrono::hours retention)
    : queue_(queue), storage_(storage), retention_(retention) {
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      SweepOnce();
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, std::chrono::minutes(1), [] { return false; });
    }
  });
}

int Sweeper::SweepOnce() {
  const jobs::Millis cutoff =
      jobs::NowMillis() - std::chrono::duration_cast<std::chrono::milliseconds>(retention_).count();
  auto expired = queue_.ListFinishedBefore(cutoff, 500);
  if (!expired.ok()) {
    core::LogWarn("retention sweep: " + expired.status().ToString());
    return 0;
  }
  int removed = 0;
  for (const auto& job : *expired) {
    // Files first: a crash in between leaves a record without files (GET result answers 410), never the reverse.
    if (storage_.DeletePrefix("jobs/" + job.id + "/").ok() && queue_.Delete("", job.id).ok()) ++removed;
  }
  if (removed > 0) core::LogInfo("retention sweep removed " + std::to_string(removed) + " job(s)");
  return removed;
}

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForStopSignal(const sigset_t& signals) {
  int signal = 0;
  while (sigwait(&signals, &signal) != 0) {
  }
  return signal;
}

int WaitForStopSignalOr(const sigset_t& signals, const std::function<bool()>& done, std::chrono::milliseconds poll) {
  const timespec wait = ToTimespec(poll);
  while (!done()) {
    if (const int signal = sigtimedwait(&signals, nullptr, &wait); signal > 0) return signal;
  }
  return 0;
}

}  // namespace facefleet::apps
