// facefleet worker: runs jobs from a shared queue (another host's `facefleet serve --workers 0` takes them in)
// and serves only /healthz, /readyz and /metrics. Loads the models once, heartbeats running jobs, stores
// results, and on SIGTERM stops taking jobs, lets the running ones finish within --drain-timeout and hands the
// rest back to the queue. --max-jobs and --exit-when-idle make it a batch process (a Kubernetes Job started by a
// KEDA ScaledJob): it exits 0 after its share of jobs, or when the queue has stayed empty for a while.
#include <csignal>
#include <cstdio>

#include "commands.hpp"
#include "common/flags.hpp"
#include "core/log.hpp"
#include "facefleet/version.hpp"
#include "http/api_server.hpp"
#include "service_common.hpp"
#include "swap_flags.hpp"

namespace facefleet::apps {
namespace {

FlagSet WorkerFlags() {
  FlagSet flags("worker",
                "Run jobs from the shared queue (--queue) with inputs and results in --storage; serves /healthz, "
                "/readyz and /metrics only.");
  flags.Add({"--host", "ADDR", "address for the health and metrics endpoints", "127.0.0.1"});
  flags.Add({"--port", "PORT", "port for the health and metrics endpoints (0 = any free port)", "9090"});
  flags.Add({"--webhook-secret", "SECRET", "HMAC-SHA256 key for webhook signatures (the API tier's)", ""});
  flags.Add({"--allow-private-webhooks", "", "deliver webhooks to loopback/private addresses", ""});
  flags.Add({"--max-jobs", "N", "exit 0 after running this many jobs (0 = never; for ScaledJob pods)", "0"});
  flags.Add({"--exit-when-idle", "SECONDS", "exit 0 after this long without a job (0 = never)", "0"});
  AddServiceFlags(flags);
  AddEngineFlags(flags);
  return flags;
}

int Work(const FlagSet& flags) {
  auto config = ReadServiceConfig(flags);
  if (!config.ok()) return ReportError("worker", config.status());
  if (config->workers == 0) return ReportError("worker", {ErrorCode::kUsage, "--workers must be at least 1"});
  EngineOptions engine_options;
  if (Status read = ReadEngineOptions(flags, engine_options); !read.ok()) return ReportError("worker", read);
  Checker c;
  http::ServerConfig ops;
  ops.ops_only = true;
  ops.host = flags.Get("--host");
  ops.port = static_cast<int>(c.Take(flags.GetInt("--port", 0, 65535)));
  ops.http_threads = 4;
  const auto max_jobs = static_cast<int>(c.Take(flags.GetInt("--max-jobs", 0, 1'000'000)));
  const std::chrono::seconds exit_when_idle(c.Take(flags.GetInt("--exit-when-idle", 0, 7 * 24 * 3600)));
  if (!c.status().ok()) return ReportError("worker", c.status());
  const sigset_t signals = BlockStopSignals();

  auto backends = OpenBackends(*config, signals);
  if (!backends.ok()) return ReportError("worker", backends.status());
  http::WebhookOptions webhook_options;
  webhook_options.secret = flags.Get("--webhook-secret");
  webhook_options.allow_private = flags.GetBool("--allow-private-webhooks");
  webhook_options.user_agent = "facefleet/" + Version();
  http::WebhookSender webhooks(webhook_options);
  metrics::Registry registry;
  EngineRunner runner(engine_options, config->limits, config->unload_after_idle);
  ServiceMetrics service_metrics(registry, *backends->queue, &webhooks);
  storage::Storage* storage = backends->storage.get();
  auto pool = MakeWorkerPool(
      *config, *backends, runner,
      [&](jobs::JobEvent event, const jobs::JobRecord& job) {
        service_metrics.Observe(event, job);
        std::string result_url;
        if (job.status == jobs::JobStatus::kSucceeded) {
          auto url = storage->PresignGet(job.result_key, std::chrono::hours(24));
          result_url = url.ok() && !url->empty() ? *url : "/v1/jobs/" + job.id + "/result";
        }
        for (const char* name : http::WebhookEventsFor(event)) http::EmitJobWebhook(&webhooks, job, name, result_url);
      },
      max_jobs);
  registry.AddCollector([&pool, &service_metrics] {
    const auto stats = pool->stats();
    service_metrics.SetWorkers(stats.workers, stats.busy);
  });
  http::ServiceContext ctx;
  ctx.queue = backends->queue.get();
  ctx.storage = storage;
  ctx.metrics = &registry;
  ctx.ready = [&runner] { return runner.Ready(); };
  http::ApiServer server(ops, ctx);
  if (Status started = server.Start(); !started.ok()) return ReportError("worker", started);
  std::printf("facefleet worker: health and metrics on http://%s:%d\n", ops.host.c_str(), server.port());
  std::fflush(stdout);
  // A worker that cannot load its models stays up, not ready, and takes no job (the pool checks Ready()).
  if (auto seconds = runner.Load(); seconds.ok()) {
    service_metrics.SetModelLoadSeconds(*seconds);
  } else {
    core::Log(core::LogLevel::kError, "models not loaded: " + seconds.status().ToString());
  }
  pool->Start();

  const int signal = WaitForStopSignalOr(
      signals,
      [&] {
        if (pool->Exhausted()) return true;
        return exit_when_idle.count() > 0 && pool->IdleFor() >= exit_when_idle;
      },
      std::chrono::milliseconds(200));
  if (signal == 0) {
    core::LogInfo(pool->Exhausted() ? "ran --max-jobs jobs: exiting" : "idle for --exit-when-idle: exiting");
  } else {
    core::LogWarn(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") + ": draining");
  }
  server.BeginDrain();
  if (!pool->Drain(config->drain_timeout)) core::LogWarn("drain timeout: unfinished jobs handed back to the queue");
  (void)webhooks.Drain(std::chrono::seconds(5));
  server.Stop();
  return 0;
}

}  // namespace

int RunWorker(const std::vector<std::string>& args) {
  FlagSet flags = WorkerFlags();
  if (Status parsed = flags.Parse(args); !parsed.ok()) return ReportError("worker", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  return Work(flags);
}

}  // namespace facefleet::apps
