#include "sim/study.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "sim/svg.hpp"

namespace facefleet::sim {
namespace {

// "$0.8048/h", "$0.40/h": up to 4 decimals, at least 2.
std::string PriceLabel(const GpuPrice& price) {
  std::string amount = Fixed(price.usd_per_hour, 4);
  while (amount.size() > 3 && amount.back() == '0' && amount[amount.size() - 3] != '.') amount.pop_back();
  return (price.name.empty() ? "" : price.name + " ") + "$" + amount + "/h";
}

std::string Seconds(double s) { return Fixed(s, 0) + " s"; }

std::string Saving(double cost, double baseline) {
  if (baseline <= 0) return "–";
  return Fixed(100.0 * (baseline - cost) / baseline, 0) + " %";
}

// "07:45" for 7.75.
std::string Clock(double hour) {
  const int minutes = static_cast<int>(std::lround(hour * 60));
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%02d:%02d", minutes / 60, minutes % 60);
  return text.data();
}

// "12 of 4768 (0.3 %)", plus the jobs never served.
std::string OverTarget(const PolicyResult& r) {
  std::string text = std::to_string(r.jobs_over_target) + " of " + std::to_string(r.jobs) + " (" +
                     Fixed(r.jobs == 0 ? 0 : 100.0 * r.jobs_over_target / r.jobs, 1) + " %)";
  if (r.jobs_unserved > 0) text += ", " + std::to_string(r.jobs_unserved) + " never served";
  return text;
}

// The run's baseline: the always-on result if the study has one.
double BaselineHours(const std::vector<PolicyResult>& results) {
  for (const PolicyResult& r : results) {
    if (r.kind == PolicyKind::kAlwaysOn) return r.gpu_hours;
  }
  return 0;
}

// `policy`: the settings the runs used (always-on size and maxReplicaCount resolved).
std::string Header(const StudyConfig& config, const PolicyConfig& policy, const std::vector<Job>& jobs) {
  double work_s = 0;
  for (const Job& job : jobs) work_s += job.service_s;
  const double horizon_s = config.trace.hours * 3600;
  const KedaConfig& keda = policy.keda;
  const ClusterConfig& cluster = config.cluster;
  std::ostringstream out;
  out << "## Trace: " << TraceName(config.trace) << " (seed " << config.seed << ", " << Fixed(config.trace.hours, 0)
      << " h)\n\n"
      << jobs.size() << " jobs, mean service " << Fixed(jobs.empty() ? 0 : work_s / static_cast<double>(jobs.size()), 1)
      << " s, mean offered load " << Fixed(work_s / horizon_s, 2)
      << " busy GPUs; always-on: " << policy.always_on_replicas
      << (policy.always_on_replicas == 1 ? " worker" : " workers")
      << (config.always_on_replicas > 0 ? "" : " (sized for the busiest 15 min at 75 % load)") << ".\n"
      << "KEDA: pollingInterval " << Seconds(keda.polling_interval_s) << ", cooldownPeriod "
      << Seconds(keda.cooldown_period_s) << ", lagCount " << Fixed(keda.lag_count, 0) << ", activationLagCount "
      << Fixed(keda.activation_lag_count, 0) << ", pendingEntriesCount "
      << (keda.pending_entries_count > 0 ? Fixed(keda.pending_entries_count, 0) : std::string("off"))
      << ", maxReplicaCount " << keda.max_replica_count << "; pre-warm " << policy.prewarm.replicas << " replica(s) "
      << Clock(policy.prewarm.start_h) << "–" << Clock(policy.prewarm.end_h) << " (cron opens "
      << Seconds(policy.prewarm.lead_s) << " early)"
      << ". Cluster: node provisioning " << Seconds(cluster.node_provision_s) << ", image pull "
      << Seconds(cluster.image_pull_s) << ", model load " << Seconds(cluster.model_load_s) << ", scale-down-unneeded "
      << Seconds(cluster.scale_down_unneeded_s) << ", delay-after-add " << Seconds(cluster.scale_down_delay_after_add_s)
      << ".\n\n";
  return out.str();
}

std::string PolicyTable(const StudyConfig& config, const std::vector<PolicyResult>& results) {
  const GpuPrice& price = config.prices.front();
  const double baseline = BaselineHours(results);
  std::ostringstream out;
  out << "| policy | GPU-h | cost (" << PriceLabel(price) << ") | saving vs always-on | wait p50 | wait p95 | "
      << "wait p99 | wait max | jobs waiting > " << Seconds(config.latency_target_s)
      << " | peak GPUs | node cold starts |\n"
      << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const PolicyResult& r : results) {
    out << "| " << PolicyName(r.kind) << " | " << Fixed(r.gpu_hours, 1) << " | $"
        << Fixed(r.gpu_hours * price.usd_per_hour, 2) << " | " << Saving(r.gpu_hours, baseline) << " | "
        << Seconds(r.wait_p50_s) << " | " << Seconds(r.wait_p95_s) << " | " << Seconds(r.wait_p99_s) << " | "
        << Seconds(r.wait_max_s) << " | " << OverTarget(r) << " | " << r.peak_nodes << " | " << r.cold_node_starts
        << " |\n";
  }
  return out.str();
}

std::string PriceTable(const StudyConfig& config, const std::vector<PolicyResult>& results) {
  std::ostringstream out;
  out << "\nCost over the run by GPU price (USD; GPU-hours × price per node-hour):\n\n| policy |";
  for (const GpuPrice& price : config.prices) out << " " << PriceLabel(price) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < config.prices.size(); ++i) out << "---:|";
  out << "\n";
  for (const PolicyResult& r : results) {
    out << "| " << PolicyName(r.kind) << " |";
    for (const GpuPrice& price : config.prices) out << " $" << Fixed(r.gpu_hours * price.usd_per_hour, 2) << " |";
    out << "\n";
  }
  return out.str();
}

struct SweepRow {
  double cooldown_s;
  PolicyResult result;
};

std::string SweepTable(const StudyConfig& config, const std::vector<SweepRow>& rows, double baseline_hours) {
  const GpuPrice& price = config.prices.front();
  std::ostringstream out;
  out << "\nKEDA cooldownPeriod sweep (policy keda, everything else as above):\n\n"
      << "| cooldownPeriod | GPU-h | cost (" << PriceLabel(price) << ") | saving vs always-on | wait p50 | "
      << "wait p95 | wait p99 | jobs waiting > " << Seconds(config.latency_target_s) << " | node cold starts |\n"
      << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const SweepRow& row : rows) {
    const PolicyResult& r = row.result;
    out << "| " << Seconds(row.cooldown_s) << " | " << Fixed(r.gpu_hours, 1) << " | $"
        << Fixed(r.gpu_hours * price.usd_per_hour, 2) << " | " << Saving(r.gpu_hours, baseline_hours) << " | "
        << Seconds(r.wait_p50_s) << " | " << Seconds(r.wait_p95_s) << " | " << Seconds(r.wait_p99_s) << " | "
        << r.jobs_over_target << " | " << r.cold_node_starts << " |\n";
  }
  return out.str();
}

std::string TradeoffPlot(const StudyConfig& config, const std::vector<SweepRow>& rows,
                         const std::vector<PolicyResult>& results) {
  const double price = config.prices.front().usd_per_hour;
  std::vector<TradeoffPoint> sweep;
  sweep.reserve(rows.size());
  for (const SweepRow& row : rows) {
    sweep.push_back({Seconds(row.cooldown_s), row.result.gpu_hours * price, row.result.wait_p95_s});
  }
  std::vector<TradeoffPoint> references;
  for (const PolicyResult& r : results) {
    if (r.kind != PolicyKind::kKeda) references.push_back({PolicyName(r.kind), r.gpu_hours * price, r.wait_p95_s});
  }
  return TradeoffSvg(TraceName(config.trace) + " trace: cost vs p95 wait as KEDA cooldownPeriod varies (" +
                         PriceLabel(config.prices.front()) + ")",
                     sweep, references);
}

}  // namespace

std::string VaryTable(const std::string& flag, const StudyConfig& config, const std::vector<VaryRun>& runs) {
  const GpuPrice& price = config.prices.front();
  std::ostringstream out;
  const std::string trace = flag == "--trace" ? std::string() : "trace " + TraceName(config.trace) + ", ";
  out << "## Varying " << flag << " (otherwise: " << trace << "seed " << config.seed << ", "
      << Fixed(config.trace.hours, 0) << " h)\n\n"
      << "| " << flag << " | policy | GPU-h | cost (" << PriceLabel(price) << ") | saving vs always-on | wait p50 | "
      << "wait p95 | wait p99 | wait max | jobs waiting > " << Seconds(config.latency_target_s)
      << " | peak GPUs | node cold starts |\n"
      << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const VaryRun& run : runs) {
    const double baseline = BaselineHours(run.output.results);
    for (const PolicyResult& r : run.output.results) {
      if (r.kind == PolicyKind::kAlwaysOn) continue;
      out << "| " << run.value << " | " << PolicyName(r.kind) << " | " << Fixed(r.gpu_hours, 1) << " | $"
          << Fixed(r.gpu_hours * price.usd_per_hour, 2) << " | " << Saving(r.gpu_hours, baseline) << " | "
          << Seconds(r.wait_p50_s) << " | " << Seconds(r.wait_p95_s) << " | " << Seconds(r.wait_p99_s) << " | "
          << Seconds(r.wait_max_s) << " | " << OverTarget(r) << " | " << r.peak_nodes << " | " << r.cold_node_starts
          << " |\n";
    }
  }
  return out.str();
}

Result<GpuPrice> ParseGpuPrice(const std::string& text) {
  GpuPrice price;
  std::string number = text;
  if (const auto eq = text.find('='); eq != std::string::npos) {
    price.name = text.substr(0, eq);
    number = text.substr(eq + 1);
  }
  const char* end = number.data() + number.size();
  const auto [ptr, ec] = std::from_chars(number.data(), end, price.usd_per_hour);
  if (number.empty() || ec != std::errc() || ptr != end || !(price.usd_per_hour > 0) ||
      !std::isfinite(price.usd_per_hour)) {
    return Status(ErrorCode::kUsage, "--gpu-price must be USD_PER_HOUR or NAME=USD_PER_HOUR (> 0), got '" + text + "'");
  }
  return price;
}

Result<StudyOutput> RunStudy(const StudyConfig& config) {
  if (config.prices.empty()) return Status(ErrorCode::kUsage, "at least one --gpu-price is needed");
  Result<std::vector<Job>> jobs = MakeTrace(config.trace, config.service, config.seed);
  if (!jobs.ok()) return jobs.status();
  const double horizon_s = config.trace.hours * 3600;
  RunOptions options;
  options.horizon_s = horizon_s;
  options.latency_target_s = config.latency_target_s;
  options.sample_interval_s = std::max(60.0, std::ceil(horizon_s / 600 / 60) * 60);  // <= ~600 points a line
  PolicyConfig policy = config.policy;
  policy.always_on_replicas =
      config.always_on_replicas > 0 ? config.always_on_replicas : PeakSizedReplicas(*jobs, horizon_s);
  if (policy.keda.max_replica_count <= 0) policy.keda.max_replica_count = policy.always_on_replicas;

  StudyOutput output;
  for (const PolicyKind kind : config.policies) {
    policy.kind = kind;
    output.results.push_back(RunPolicy(*jobs, policy, config.cluster, options));
  }
  std::vector<SweepRow> sweep;
  sweep.reserve(config.sweep_cooldowns_s.size());
  for (const double cooldown_s : config.sweep_cooldowns_s) {
    PolicyConfig variant = policy;
    variant.kind = PolicyKind::kKeda;
    variant.keda.cooldown_period_s = cooldown_s;
    sweep.push_back({cooldown_s, RunPolicy(*jobs, variant, config.cluster, options)});
  }
  output.markdown = Header(config, policy, *jobs) + PolicyTable(config, output.results);
  if (config.prices.size() > 1) output.markdown += PriceTable(config, output.results);
  if (!sweep.empty()) {
    output.markdown += SweepTable(config, sweep, BaselineHours(output.results));
    output.tradeoff_svg = TradeoffPlot(config, sweep, output.results);
  }
  output.timeline_svg = TimelineSvg(TraceName(config.trace) + " trace: GPU nodes, workers and queue per policy",
                                    output.results, horizon_s);
  return output;
}

}  // namespace facefleet::sim
