// facefleet serve: the job service in one process — HTTP API, durable queue, storage, in-process workers,
// metrics, web page. Embedded defaults (SQLite queue and local files under --data-dir) make one machine a
// complete deployment. Thread model: see docs/architecture.md ("Service").
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "commands.hpp"
#include "common/flags.hpp"
#include "core/log.hpp"
#include "engine_runner.hpp"
#include "facefleet/version.hpp"
#include "http/webhook.hpp"
#include "service_common.hpp"
#include "swap_flags.hpp"

namespace facefleet::apps {
namespace {

FlagSet ServeFlags() {
  FlagSet flags("serve",
                "Run the job service: REST API v1 (/v1/jobs), web page (/), /metrics, /healthz, /readyz, with "
                "in-process workers.");
  flags.Add({"--host", "ADDR", "address to listen on (loopback only while no API key exists)", "127.0.0.1"});
  flags.Add({"--port", "PORT", "TCP port (0 = any free port, printed on stdout)", "8080"});
  flags.Add({"--http-threads", "N", "connections served at once (each SSE stream holds one)", "64"});
  flags.Add({"--max-upload-bytes", "BYTES", "largest accepted request body (413 above)", std::to_string(512LL << 20)});
  flags.Add({"--rate-limit", "RPS",
             "requests per second per API key (0 = unlimited); with a redis:// queue the limit is shared by every "
             "API replica",
             "50"});
  flags.Add({"--rate-burst", "N", "requests a key may burst above its rate", "100"});
  flags.Add({"--max-active-jobs", "N", "queued + running jobs per API key (429 above)", "16"});
  flags.Add({"--max-event-streams", "N", "open SSE streams at once (503 above)", "32"});
  flags.Add({"--allow-private-webhooks", "", "allow webhook URLs on loopback/private/link-local addresses", ""});
  flags.Add({"--webhook-secret", "SECRET",
             "HMAC-SHA256 key for X-Facefleet-Signature (default: generated once "
             "into DATA_DIR/webhook.secret)",
             ""});
  AddServiceFlags(flags);
  AddEngineFlags(flags);
  return flags;
}

// The webhook signing secret: the flag, else a random one kept in the data dir so it survives restarts.
Result<std::string> WebhookSecret(const FlagSet& flags, const std::string& data_dir) {
  if (!flags.Get("--webhook-secret").empty()) return flags.Get("--webhook-secret");
  const std::string path = data_dir + "/webhook.secret";
  if (std::ifstream in(path); in) {
    std::string secret;
    std::getline(in, secret);
    if (!secret.empty()) return secret;
  }
  std::random_device random;
  std::string secret;
  for (int i = 0; i < 4; ++i) secret += std::to_string(random()) + std::to_string(random());
  std::ofstream out(path, std::ios::trunc);
  out << secret << "\n";
  if (!out) return Status(ErrorCode::kOutputFailed, path + ": cannot write the webhook secret");
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return secret;
}

Result<http::ServerConfig> ReadServerConfig(const FlagSet& flags, const ServiceConfig& service) {
  http::ServerConfig config;
  Checker c;
  config.host = flags.Get("--host");
  config.port = static_cast<int>(c.Take(flags.GetInt("--port", 0, 65535)));
  config.http_threads = static_cast<int>(c.Take(flags.GetInt("--http-threads", 4, 4096)));
  config.max_upload_bytes = static_cast<std::uint64_t>(c.Take(flags.GetInt("--max-upload-bytes", 1024, 1LL << 40)));
  config.rate_limit = c.Take(flags.GetFloat("--rate-limit", 0, 1e9));
  config.rate_burst = c.Take(flags.GetFloat("--rate-burst", 1, 1e9));
  config.max_active_jobs = static_cast<int>(c.Take(flags.GetInt("--max-active-jobs", 1, 1'000'000)));
  config.max_event_streams = static_cast<int>(c.Take(flags.GetInt("--max-event-streams", 0, 4096)));
  config.allow_private_webhooks = flags.GetBool("--allow-private-webhooks");
  config.max_attempts = service.max_attempts;
  config.scratch_dir = service.data_dir + "/scratch";
  if (!c.status().ok()) return c.status();
  return config;
}

// With no API key yet, create one, print it once, and refuse to listen beyond loopback. CreateFirst decides
// atomically, so of several replicas starting at once on an empty shared store, one creates (and prints) it.
Status EnsureKey(http::KeyStore& keys, http::ServerConfig& config) {
  auto active = keys.CountActive();
  if (!active.ok()) return active.status();
  if (*active > 0) return Status::Ok();
  auto created = keys.CreateFirst("default");
  if (!created.ok()) return created.status();
  if (!created->has_value()) return Status::Ok();  // another process created one meanwhile
  std::printf("facefleet serve: no API key existed; created one (shown once, keep it):\n%s\n", (*created)->key.c_str());
  if (config.host != "127.0.0.1" && config.host != "localhost" && config.host != "::1") {
    core::LogWarn("no API key existed: listening on 127.0.0.1 instead of " + config.host +
                  " (create keys with 'facefleet keys create', then restart)");
    config.host = "127.0.0.1";
  }
  return Status::Ok();
}

int Serve(const FlagSet& flags) {
  auto service_config = ReadServiceConfig(flags);
  if (!service_config.ok()) return ReportError("serve", service_config.status());
  auto server_config = ReadServerConfig(flags, *service_config);
  if (!server_config.ok()) return ReportError("serve", server_config.status());
  EngineOptions engine_options;
  if (Status read = ReadEngineOptions(flags, engine_options); !read.ok()) return ReportError("serve", read);
  const sigset_t signals = BlockStopSignals();  // before any thread starts, so only sigwait sees them

  auto backends = OpenBackends(*service_config, signals);
  if (!backends.ok()) return ReportError("serve", backends.status());
  auto keys = OpenKeyStore(*service_config, &signals);
  if (!keys.ok()) return ReportError("serve", keys.status());
  auto limiter = OpenRateLimiter(*service_config, server_config->rate_limit, server_config->rate_burst, signals);
  if (!limiter.ok()) return ReportError("serve", limiter.status());
  if (Status ensured = EnsureKey(**keys, *server_config); !ensured.ok()) return ReportError("serve", ensured);
  auto secret = WebhookSecret(flags, service_config->data_dir);
  if (!secret.ok()) return ReportError("serve", secret.status());
  http::WebhookOptions webhook_options;
  webhook_options.secret = *secret;
  webhook_options.allow_private = server_config->allow_private_webhooks;
  webhook_options.user_agent = "facefleet/" + Version();
  http::WebhookSender webhooks(webhook_options);

  metrics::Registry registry;
  http::ChangeNotifier notifier;
  EngineRunner runner(engine_options, service_config->limits, service_config->unload_after_idle);
  ServiceMetrics service_metrics(registry, *backends->queue, &webhooks);
  std::unique_ptr<jobs::WorkerPool> pool;  // created after the server (its listener emits the server's webhooks)
  http::ServiceContext ctx;
  ctx.queue = backends->queue.get();
  ctx.storage = backends->storage.get();
  ctx.keys = keys->get();
  ctx.limiter = limiter->get();
  ctx.metrics = &registry;
  ctx.webhooks = &webhooks;
  ctx.notifier = &notifier;
  ctx.validate = MakeSubmissionValidator(service_config->limits);
  ctx.ready = [&runner, workers = service_config->workers] { return workers > 0 ? runner.Ready() : Status::Ok(); };
  ctx.cancel_local = [&pool](const std::string& id) { return pool != nullptr && pool->Cancel(id); };
  http::ApiServer server(*server_config, ctx);
  pool = MakeWorkerPool(*service_config, *backends, runner, [&](jobs::JobEvent event, const jobs::JobRecord& job) {
    notifier.Notify();
    service_metrics.Observe(event, job);
    for (const char* name : http::WebhookEventsFor(event)) server.EmitWebhook(job, name);
  });
  registry.AddCollector([&pool, &service_metrics] {
    const auto stats = pool ? pool->stats() : jobs::WorkerPoolStats{};
    service_metrics.SetWorkers(stats.workers, stats.busy);
  });
  if (Status started = server.Start(); !started.ok()) return ReportError("serve", started);
  std::printf("facefleet serve: listening on http://%s:%d\n", server_config->host.c_str(), server.port());
  std::fflush(stdout);
  if (pool) {
    // Models load once, after the API is up (/readyz answers 503 meanwhile); a failure keeps /readyz failing with
    // the reason and the workers take no job.
    if (auto seconds = runner.Load(); seconds.ok()) {
      service_metrics.SetModelLoadSeconds(*seconds);
    } else {
      core::Log(core::LogLevel::kError, "models not loaded: " + seconds.status().ToString());
    }
    pool->Start();
  }
  Sweeper sweeper(*backends->queue, *backends->storage, service_config->retention);

  const int signal = WaitForStopSignal(signals);
  core::Log(core::LogLevel::kWarn, std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                                       ": draining (no new jobs; running jobs may finish)");
  server.BeginDrain();
  const bool clean = pool == nullptr || pool->Drain(service_config->drain_timeout);
  if (!clean) core::LogWarn("drain timeout: unfinished jobs were handed back to the queue");
  (void)webhooks.Drain(std::chrono::seconds(5));
  server.Stop();
  return 0;
}

}  // namespace

int RunServe(const std::vector<std::string>& args) {
  FlagSet flags = ServeFlags();
  if (Status parsed = flags.Parse(args); !parsed.ok()) return ReportError("serve", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  return Serve(flags);
}

}  // namespace facefleet::apps
