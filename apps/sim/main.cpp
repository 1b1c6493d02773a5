// facefleet-sim: what each GPU worker scaling policy costs and how long jobs wait (docs/cost.md).
//
// Parses flags into a StudyConfig, runs the study, prints the Markdown tables on stdout and, with --out-dir,
// writes sim-<trace>-timeline.svg and sim-<trace>-cooldown.svg. With --vary FLAG=V1,V2 it runs the study once per
// value instead and prints one table row per value and policy. Exit codes follow error_info().
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "common/flags.hpp"
#include "facefleet/status.hpp"
#include "sim/study.hpp"

namespace {

using facefleet::ErrorCode;
using facefleet::Result;
using facefleet::Status;
using facefleet::apps::FlagSet;
namespace sim = facefleet::sim;

// FlagSet names the program "facefleet <command>"; this binary is facefleet-sim.
std::string Rename(std::string text) {
  for (auto at = text.find("facefleet sim"); at != std::string::npos; at = text.find("facefleet sim", at)) {
    text.replace(at, 13, "facefleet-sim");
  }
  return text;
}

void DeclareFlags(FlagSet& flags) {
  flags.Add({"--trace", "KIND", "diurnal | bursty | constant | csv:PATH (rows: arrival_s,duration_s)", "diurnal"});
  flags.Add({"--seed", "N", "random seed; the same seed gives byte-identical output", "1"});
  flags.Add({"--hours", "H", "simulated hours, starting at midnight", "48"});
  flags.Add(
      {"--peak-rate", "PER_MIN", "peak arrivals per minute; 0: trace default (diurnal 6, bursty 20, constant 3)", "0"});
  flags.Add(
      {"--gpu-price", "[NAME=]USD", "price per GPU node-hour; the first one prices the main table", "L4=0.8048", true});
  flags.Add({"--out-dir", "DIR", "also write two SVG plots here (sim-<trace>-timeline.svg, -cooldown.svg)", ""});
  flags.Add({"--vary", "FLAG=V1,V2,...", "run once per value of another flag; one table row per value and policy", ""});
  flags.Add(
      {"--policy", "NAME", "always-on | hpa-zero | keda | keda-prewarm", "always-on,hpa-zero,keda,keda-prewarm", true});
  flags.Add({"--latency-target", "SECONDS", "a job misses the target when its queue wait is longer", "120"});
  flags.Add({"--always-on-replicas", "N", "always-on fleet size; 0: sized for the busiest 15 min at 75 % load", "0"});
  // KEDA defaults: the settings docs/cost.md recommends for facefleet (KEDA's own defaults in the help text).
  flags.Add({"--keda-polling-interval", "SECONDS", "ScaledObject pollingInterval (KEDA: 30)", "15"});
  flags.Add({"--keda-cooldown-period", "SECONDS", "ScaledObject cooldownPeriod, last replica -> 0 (KEDA: 300)", "300"});
  flags.Add({"--keda-lag-count", "N", "redis-streams lagCount: undelivered jobs per replica", "3"});
  flags.Add({"--keda-activation-lag-count", "N", "redis-streams activationLagCount: active when lag > N", "0"});
  flags.Add({"--keda-pending-entries-count", "N", "second redis-streams trigger, pendingEntriesCount; 0: none", "1"});
  flags.Add({"--keda-min-replicas", "N", "ScaledObject minReplicaCount", "0"});
  flags.Add({"--keda-max-replicas", "N", "maxReplicaCount (KEDA: 100); 0: the always-on size", "0"});
  flags.Add({"--hpa-sync-period", "SECONDS", "HPA controller sync period", "15"});
  flags.Add({"--hpa-tolerance", "X", "HPA tolerance: no change while |ratio - 1| <= X", "0.1"});
  flags.Add({"--hpa-scale-down-stabilization", "SECONDS", "HPA behavior.scaleDown.stabilizationWindowSeconds", "300"});
  flags.Add({"--prewarm-hours", "START-END", "keda-prewarm: business hours of the day (e.g. 7.5-20)", "8-20"});
  flags.Add({"--prewarm-lead", "SECONDS", "keda-prewarm: open the cron window this much earlier", "900"});
  flags.Add({"--prewarm-replicas", "N", "keda-prewarm: replicas during the window", "1"});
  flags.Add({"--node-provision", "SECONDS", "GPU node provisioning until schedulable", "210"});
  flags.Add({"--image-pull", "SECONDS", "worker image pull on a node without it", "270"});
  flags.Add({"--model-load", "SECONDS", "worker start and model load until ready", "20"});
  flags.Add({"--ca-scale-down-unneeded", "SECONDS", "cluster autoscaler scale-down-unneeded-time", "600"});
  flags.Add({"--ca-scale-down-delay-after-add", "SECONDS", "cluster autoscaler scale-down-delay-after-add", "600"});
  flags.Add({"--sweep-cooldowns", "LIST", "cooldownPeriod values (s) for the cost/latency sweep; 'off': none",
             "0,60,120,300,600,900,1800"});
  flags.Add({"--neural-ms", "MS", "neural pipeline GPU time per video frame", "40"});
  flags.Add({"--classic-ms", "MS", "classic pipeline time per video frame", "30"});
  flags.Add({"--neural-share", "FRACTION", "fraction of jobs using the neural pipeline", "0.8"});
  flags.Add({"--video-median", "SECONDS", "median video length (log-normal)", "12"});
  flags.Add({"--video-sigma", "X", "log-space sigma of the video length", "0.9"});
  flags.Add({"--job-overhead", "SECONDS", "per-job download, probe and upload", "3"});
  flags.Add({"--gpu-speedup", "X", "divides the per-frame times (a faster GPU than the reference)", "1"});
}

struct FloatFlag {
  const char* name;
  double min;
  double max;
  double* target;
};

Status ReadFloats(const FlagSet& flags, const std::vector<FloatFlag>& table) {
  for (const FloatFlag& flag : table) {
    Result<double> value = flags.GetFloat(flag.name, flag.min, flag.max);
    if (!value.ok()) return value.status();
    *flag.target = *value;
  }
  return Status::Ok();
}

Status ReadInt(const FlagSet& flags, const char* name, std::int64_t min, std::int64_t max, int& target) {
  Result<std::int64_t> value = flags.GetInt(name, min, max);
  if (!value.ok()) return value.status();
  target = static_cast<int>(*value);
  return Status::Ok();
}

Status ReadPrewarmHours(const FlagSet& flags, sim::PrewarmSchedule& prewarm) {
  const std::string text = flags.Get("--prewarm-hours");
  const auto dash = text.find('-');
  auto bad = [&text] {
    return Status(ErrorCode::kUsage,
                  "--prewarm-hours must be START-END within 0-24 with START < END, got '" + text + "'");
  };
  if (dash == std::string::npos) return bad();
  try {
    std::size_t used_start = 0;
    std::size_t used_end = 0;
    prewarm.start_h = std::stod(text.substr(0, dash), &used_start);
    prewarm.end_h = std::stod(text.substr(dash + 1), &used_end);
    if (used_start != dash || used_end != text.size() - dash - 1) return bad();
  } catch (const std::exception&) {
    return bad();
  }
  if (prewarm.start_h < 0 || prewarm.end_h > 24 || prewarm.start_h >= prewarm.end_h) return bad();
  return Status::Ok();
}

Status ReadLists(const FlagSet& flags, sim::StudyConfig& config) {
  config.policies.clear();
  for (const std::string& name : flags.GetList("--policy")) {
    Result<sim::PolicyKind> kind = sim::ParsePolicyName(name);
    if (!kind.ok()) return kind.status();
    config.policies.push_back(*kind);
  }
  config.prices.clear();
  for (const std::string& text : flags.GetAll("--gpu-price")) {
    Result<sim::GpuPrice> price = sim::ParseGpuPrice(text);
    if (!price.ok()) return price.status();
    config.prices.push_back(*price);
  }
  config.sweep_cooldowns_s.clear();
  if (flags.Get("--sweep-cooldowns") == "off") return Status::Ok();
  for (const std::string& text : flags.GetList("--sweep-cooldowns")) {
    Result<std::int64_t> value = facefleet::apps::ParseInt("--sweep-cooldowns", text, 0, 86400);
    if (!value.ok()) return value.status();
    config.sweep_cooldowns_s.push_back(static_cast<double>(*value));
  }
  return Status::Ok();
}

Result<sim::StudyConfig> ParseConfig(const FlagSet& flags) {
  sim::StudyConfig config;
  Result<sim::TraceSpec> trace = sim::ParseTraceName(flags.Get("--trace"));
  if (!trace.ok()) return trace.status();
  config.trace = *trace;
  Result<std::int64_t> seed = flags.GetInt("--seed", 0, std::numeric_limits<std::int64_t>::max());
  if (!seed.ok()) return seed.status();
  config.seed = static_cast<std::uint64_t>(*seed);
  sim::KedaConfig& keda = config.policy.keda;
  sim::HpaConfig& hpa = config.policy.hpa;
  sim::ClusterConfig& cluster = config.cluster;
  sim::ServiceModel& service = config.service;
  Status status =
      ReadFloats(flags, {{"--hours", 1, 24 * 365, &config.trace.hours},
                         {"--peak-rate", 0, 1e4, &config.trace.peak_per_min},
                         {"--latency-target", 0, 1e6, &config.latency_target_s},
                         {"--keda-polling-interval", 1, 3600, &keda.polling_interval_s},
                         {"--keda-cooldown-period", 0, 86400, &keda.cooldown_period_s},
                         {"--keda-lag-count", 0.1, 1e6, &keda.lag_count},
                         {"--keda-activation-lag-count", 0, 1e6, &keda.activation_lag_count},
                         {"--keda-pending-entries-count", 0, 1e6, &keda.pending_entries_count},
                         {"--prewarm-lead", 0, 86400, &config.policy.prewarm.lead_s},
                         {"--hpa-sync-period", 1, 3600, &hpa.sync_period_s},
                         {"--hpa-tolerance", 0, 0.99, &hpa.tolerance},
                         {"--hpa-scale-down-stabilization", 0, 3600, &hpa.behavior.scale_down.stabilization_window_s},
                         {"--node-provision", 0, 86400, &cluster.node_provision_s},
                         {"--image-pull", 0, 86400, &cluster.image_pull_s},
                         {"--model-load", 0, 86400, &cluster.model_load_s},
                         {"--ca-scale-down-unneeded", 0, 86400, &cluster.scale_down_unneeded_s},
                         {"--ca-scale-down-delay-after-add", 0, 86400, &cluster.scale_down_delay_after_add_s},
                         {"--neural-ms", 0.1, 1e5, &service.neural_ms_per_frame},
                         {"--classic-ms", 0.1, 1e5, &service.classic_ms_per_frame},
                         {"--neural-share", 0, 1, &service.neural_share},
                         {"--video-median", 0.1, 3600, &service.video_median_s},
                         {"--video-sigma", 0, 5, &service.video_sigma},
                         {"--job-overhead", 0, 3600, &service.job_overhead_s},
                         {"--gpu-speedup", 0.01, 100, &service.gpu_speedup}});
  if (status.ok()) status = ReadInt(flags, "--always-on-replicas", 0, 10000, config.always_on_replicas);
  if (status.ok()) status = ReadInt(flags, "--keda-min-replicas", 0, 10000, keda.min_replica_count);
  if (status.ok()) status = ReadInt(flags, "--keda-max-replicas", 0, 10000, keda.max_replica_count);
  if (status.ok()) status = ReadInt(flags, "--prewarm-replicas", 0, 10000, config.policy.prewarm.replicas);
  if (status.ok()) status = ReadPrewarmHours(flags, config.policy.prewarm);
  if (status.ok()) status = ReadLists(flags, config);
  if (!status.ok()) return status;
  return config;
}

Status WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return Status(ErrorCode::kOutputFailed, path.string() + ": cannot write");
  return Status::Ok();
}

Status WriteOutputs(const std::string& dir, const std::string& name, const sim::StudyOutput& output) {
  if (dir.empty()) return Status::Ok();
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status(ErrorCode::kOutputFailed, dir + ": " + error.message());
  const std::filesystem::path base(dir);
  Status status = WriteFile(base / ("sim-" + name + "-timeline.svg"), output.timeline_svg);
  if (status.ok() && !output.tradeoff_svg.empty()) {
    status = WriteFile(base / ("sim-" + name + "-cooldown.svg"), output.tradeoff_svg);
  }
  return status;
}

int Fail(const Status& status) {
  std::fprintf(stderr, "facefleet-sim: error: %s\n", Rename(status.ToString()).c_str());
  return facefleet::error_info(status.code()).exit_code;
}

FlagSet MakeFlags() {
  FlagSet flags("sim", "Simulates GPU worker scaling policies on a job trace: GPU-hours, cost and queue waits.");
  DeclareFlags(flags);
  return flags;
}

// --vary FLAG=V1,V2: the study once per value (the value appended to the command line, so it wins), without the
// cooldown sweep; one Markdown table.
int RunVary(const std::vector<std::string>& args, const std::string& spec) {
  const auto eq = spec.find('=');
  std::string name = eq == std::string::npos ? spec : spec.substr(0, eq);
  if (name.rfind("--", 0) != 0) name.insert(0, "--");
  // Repeatable flags would accumulate rather than be replaced; an unknown name fails in Parse below.
  const bool allowed = name != "--vary" && name != "--out-dir" && name != "--policy" && name != "--gpu-price";
  if (eq == std::string::npos || !allowed || eq + 1 == spec.size()) {
    return Fail(Status(ErrorCode::kUsage,
                       "--vary must be FLAG=V1,V2,... naming another single-valued flag, got '" + spec + "'"));
  }
  std::vector<sim::VaryRun> runs;
  Result<sim::StudyConfig> base = Status(ErrorCode::kInternal, "no value");
  std::vector<std::string> values;
  std::istringstream list(spec.substr(eq + 1));
  for (std::string value; std::getline(list, value, ',');) values.push_back(value);
  for (const std::string& value : values) {
    std::vector<std::string> run_args = args;
    run_args.insert(run_args.end(), {name, value});
    FlagSet flags = MakeFlags();
    if (Status status = flags.Parse(run_args); !status.ok()) return Fail(status);
    Result<sim::StudyConfig> config = ParseConfig(flags);
    if (!config.ok()) return Fail(config.status());
    config->sweep_cooldowns_s.clear();
    Result<sim::StudyOutput> output = sim::RunStudy(*config);
    if (!output.ok()) return Fail(output.status());
    runs.push_back({value, std::move(*output)});
    if (!base.ok()) base = std::move(config);
  }
  if (!base.ok()) return Fail(base.status());
  std::printf("%s", sim::VaryTable(name, *base, runs).c_str());
  return 0;
}

int Run(const std::vector<std::string>& args) {
  FlagSet flags = MakeFlags();
  if (Status status = flags.Parse(args); !status.ok()) return Fail(status);
  if (flags.HelpRequested()) {
    std::printf("%s", Rename(flags.Help()).c_str());
    return 0;
  }
  if (const std::string vary = flags.Get("--vary"); !vary.empty()) return RunVary(args, vary);
  Result<sim::StudyConfig> config = ParseConfig(flags);
  if (!config.ok()) return Fail(config.status());
  Result<sim::StudyOutput> output = sim::RunStudy(*config);
  if (!output.ok()) return Fail(output.status());
  std::printf("%s", output->markdown.c_str());
  if (Status status = WriteOutputs(flags.Get("--out-dir"), sim::TraceName(config->trace), *output); !status.ok()) {
    return Fail(status);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run({argv + 1, argv + argc});
  } catch (const std::exception& error) {  // std::bad_alloc and the like: a bug or an exhausted machine
    std::fprintf(stderr, "facefleet-sim: error: internal: %s\n", error.what());
    return facefleet::error_info(ErrorCode::kInternal).exit_code;
  }
}
