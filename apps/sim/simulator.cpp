#include "sim/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace facefleet::sim {
namespace {

// The controllers run unsynchronised in a real cluster; offsetting their ticks also keeps the order of events at
// equal times from mattering much.
constexpr double kHpaPhaseS = 1;
constexpr double kCaPhaseS = 2;

// A periodic tick at phase + k × period (computed from k, so no rounding drift over long runs).
struct Ticker {
  double period_s = 0;
  double phase_s = 0;
  std::int64_t k = 0;
  double Next() { return phase_s + period_s * static_cast<double>(++k); }
};

HpaConfig MakeHpaConfig(const PolicyConfig& policy) {
  HpaConfig hpa = policy.hpa;
  hpa.max_replicas = policy.keda.max_replica_count;
  // KEDA's generated HPA always has minReplicas >= 1; KEDA itself does 0 <-> 1.
  hpa.min_replicas = policy.kind == PolicyKind::kHpaToZero ? 0 : std::max(1, policy.keda.min_replica_count);
  return hpa;
}

// KEDA's scale loop plus the HPA it generates, or a standalone HPA (kHpaToZero).
class Autoscaler {
 public:
  explicit Autoscaler(const PolicyConfig& policy) : policy_(policy), hpa_(MakeHpaConfig(policy)) {}

  void OnKedaPoll(double now_s, World& world) {
    const KedaConfig& keda = policy_.keda;
    const int current = world.replicas();
    if (Active(world, now_s)) {
      last_active_s_ = now_s;
      if (current == 0) world.SetReplicas(now_s, std::max(1, keda.min_replica_count));
      return;
    }
    if (current < keda.min_replica_count) {
      world.SetReplicas(now_s, keda.min_replica_count);
    } else if (current > 0 && keda.min_replica_count == 0 && now_s - last_active_s_ >= keda.cooldown_period_s) {
      world.SetReplicas(now_s, 0);
    }
  }

  void OnHpaSync(double now_s, World& world) {
    const int current = world.replicas();
    // At zero replicas with minReplicas >= 1 the HPA is disabled (ScalingActive=False): KEDA owns 0 <-> 1.
    if (current == 0 && hpa_.config().min_replicas > 0) return;
    const int next = hpa_.Sync(now_s, current, MetricDesired(world, current, now_s));
    if (next != current) world.SetReplicas(now_s, next);
  }

 private:
  bool CronActive(double now_s) const {
    if (policy_.kind != PolicyKind::kKedaPrewarm) return false;
    const PrewarmSchedule& prewarm = policy_.prewarm;
    const double hour = std::fmod(now_s, 86400.0) / 3600.0;
    const double open_h = prewarm.start_h - prewarm.lead_s / 3600.0;  // may be < 0: opens the evening before
    return (hour >= open_h && hour < prewarm.end_h) || hour >= 24 + open_h;
  }

  bool Active(const World& world, double now_s) const {
    if (world.lag() > policy_.keda.activation_lag_count) return true;
    if (policy_.keda.pending_entries_count > 0 && world.pending() > 0) return true;
    return CronActive(now_s);
  }

  // The HPA's metric-based proposal: the max over the triggers, each an AverageValue metric.
  int MetricDesired(const World& world, int current, double now_s) const {
    const KedaConfig& keda = policy_.keda;
    const double tolerance = hpa_.config().tolerance;
    int desired = HpaAverageValueReplicas(current, world.lag(), keda.lag_count, tolerance);
    if (keda.pending_entries_count > 0) {
      desired =
          std::max(desired, HpaAverageValueReplicas(current, world.pending(), keda.pending_entries_count, tolerance));
    }
    if (CronActive(now_s)) {
      desired = std::max(desired, HpaAverageValueReplicas(current, policy_.prewarm.replicas, 1, tolerance));
    }
    return desired;
  }

  PolicyConfig policy_;
  HpaController hpa_;
  double last_active_s_ = -std::numeric_limits<double>::infinity();
};

// Folds the state after every event into per-interval maxima.
class TimelineRecorder {
 public:
  explicit TimelineRecorder(double interval_s) : interval_s_(interval_s) {}

  void Observe(double now_s, const World& world) {
    const auto bucket = static_cast<std::int64_t>(now_s / interval_s_);
    while (bucket_ < bucket) {
      Flush();
      ++bucket_;
      max_ = last_;
    }
    last_ = {0, world.billed_nodes(), world.ready_workers(), world.lag(), world.replicas()};
    max_.replicas = last_.replicas;
    max_.billed_nodes = std::max(max_.billed_nodes, last_.billed_nodes);
    max_.ready_workers = std::max(max_.ready_workers, last_.ready_workers);
    max_.queue = std::max(max_.queue, last_.queue);
  }

  std::vector<Sample> Finish(double end_s) {
    while (static_cast<double>(bucket_) * interval_s_ < end_s) {
      Flush();
      ++bucket_;
      max_ = last_;
    }
    return std::move(samples_);
  }

 private:
  void Flush() {
    max_.t_s = static_cast<double>(bucket_) * interval_s_;
    samples_.push_back(max_);
  }

  double interval_s_;
  std::int64_t bucket_ = 0;
  Sample last_;
  Sample max_;
  std::vector<Sample> samples_;
};

void Summarise(const RunOptions& options, PolicyResult& result) {
  std::vector<double> waits;
  waits.reserve(result.job_records.size());
  double total = 0;
  for (const JobRecord& job : result.job_records) {
    const double wait_s = (job.start_s >= 0 ? job.start_s : result.end_s) - job.arrival_s;
    if (job.start_s < 0) ++result.jobs_unserved;
    if (wait_s > options.latency_target_s) ++result.jobs_over_target;
    waits.push_back(wait_s);
    total += wait_s;
  }
  std::sort(waits.begin(), waits.end());
  result.jobs = static_cast<int>(waits.size());
  result.wait_mean_s = waits.empty() ? 0 : total / static_cast<double>(waits.size());
  result.wait_p50_s = Percentile(waits, 50);
  result.wait_p95_s = Percentile(waits, 95);
  result.wait_p99_s = Percentile(waits, 99);
  result.wait_max_s = waits.empty() ? 0 : waits.back();
}

}  // namespace

std::string PolicyName(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kAlwaysOn:
      return "always-on";
    case PolicyKind::kHpaToZero:
      return "hpa-zero";
    case PolicyKind::kKeda:
      return "keda";
    case PolicyKind::kKedaPrewarm:
      break;
  }
  return "keda-prewarm";
}

std::vector<PolicyKind> AllPolicies() {
  return {PolicyKind::kAlwaysOn, PolicyKind::kHpaToZero, PolicyKind::kKeda, PolicyKind::kKedaPrewarm};
}

Result<PolicyKind> ParsePolicyName(const std::string& name) {
  for (const PolicyKind kind : AllPolicies()) {
    if (PolicyName(kind) == name) return kind;
  }
  return Status(ErrorCode::kUsage, "--policy must be always-on, hpa-zero, keda or keda-prewarm, got '" + name + "'");
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  const auto rank = static_cast<std::int64_t>(std::ceil(p / 100.0 * n - 1e-9));
  return sorted[static_cast<std::size_t>(std::clamp<std::int64_t>(rank - 1, 0, std::ssize(sorted) - 1))];
}

PolicyResult RunPolicy(const std::vector<Job>& jobs, const PolicyConfig& policy, const ClusterConfig& cluster,
                       const RunOptions& options) {
  EventQueue events;
  World world(cluster, jobs, events);
  Autoscaler autoscaler(policy);
  TimelineRecorder timeline(options.sample_interval_s);
  for (std::size_t i = 0; i < jobs.size(); ++i)
    events.Push(jobs[i].arrival_s, EventKind::kArrival, static_cast<int>(i));
  const bool keda = policy.kind == PolicyKind::kKeda || policy.kind == PolicyKind::kKedaPrewarm;
  Ticker keda_ticks{policy.keda.polling_interval_s, 0};
  Ticker hpa_ticks{policy.hpa.sync_period_s, kHpaPhaseS};
  Ticker ca_ticks{cluster.ca_scan_interval_s, kCaPhaseS};
  if (policy.kind == PolicyKind::kAlwaysOn) world.StartWarm(policy.always_on_replicas);
  if (keda) events.Push(0, EventKind::kKedaPoll);
  if (policy.kind != PolicyKind::kAlwaysOn) events.Push(kHpaPhaseS, EventKind::kHpaSync);
  events.Push(kCaPhaseS, EventKind::kCaScan);

  PolicyResult result;
  result.kind = policy.kind;
  const double limit_s = options.horizon_s + options.drain_limit_s;
  std::size_t done = 0;
  double last_finish_s = 0;
  timeline.Observe(0, world);
  while (!events.empty()) {
    const Event event = events.Pop();
    if (event.time_s > limit_s || (event.time_s >= options.horizon_s && done == jobs.size())) break;
    switch (event.kind) {
      case EventKind::kArrival:
        world.OnArrival(event.time_s, event.id);
        break;
      case EventKind::kNodeReady:
        world.OnNodeReady(event.time_s, event.id);
        break;
      case EventKind::kPodReady:
        world.OnPodReady(event.time_s, event.id);
        break;
      case EventKind::kJobDone:
        world.OnJobDone(event.time_s, event.id);
        ++done;
        last_finish_s = event.time_s;
        break;
      case EventKind::kKedaPoll:
        autoscaler.OnKedaPoll(event.time_s, world);
        events.Push(keda_ticks.Next(), EventKind::kKedaPoll);
        break;
      case EventKind::kHpaSync:
        autoscaler.OnHpaSync(event.time_s, world);
        events.Push(hpa_ticks.Next(), EventKind::kHpaSync);
        break;
      case EventKind::kCaScan:
        world.OnCaScan(event.time_s);
        events.Push(ca_ticks.Next(), EventKind::kCaScan);
        break;
    }
    timeline.Observe(event.time_s, world);
    result.max_replicas = std::max(result.max_replicas, world.replicas());
    result.peak_nodes = std::max(result.peak_nodes, world.billed_nodes());
  }
  result.end_s = done == jobs.size() ? std::max(options.horizon_s, last_finish_s) : limit_s;
  result.gpu_hours = world.BilledNodeSeconds(result.end_s) / 3600.0;
  result.cold_node_starts = world.cold_node_starts();
  result.image_pulls = world.image_pulls();
  result.timeline = timeline.Finish(result.end_s);
  result.job_records = world.jobs();
  Summarise(options, result);
  return result;
}

}  // namespace facefleet::sim
