// One simulated run: a job trace, one worker scaling policy, the cluster model; GPU-hours and queue waits out.
//
// The four policies (docs/cost.md compares them):
// - kAlwaysOn: a fixed fleet sized for the peak, warm from time 0.
// - kHpaToZero: a plain HPA with minReplicas 0 on the queue metric, as if the HPAScaleToZero feature gate were
//   enabled (alpha since 1.16 and off on stock and managed clusters up to 1.36: serving-facts.md §2). It syncs
//   every 15 s, also at zero replicas.
// - kKeda: KEDA's ScaledObject with a redis-streams trigger (lagCount, activationLagCount), minReplicaCount 0.
//   KEDA polls every pollingInterval: when the trigger is active (lag > activationLagCount) at zero replicas it
//   sets 1; when it has been inactive for cooldownPeriod it sets 0. From 1 to N the HPA that KEDA generates
//   (minReplicas 1) scales on lag with an AverageValue target of lagCount.
// - kKedaPrewarm: kKeda plus a cron trigger that asks for `prewarm.replicas` during business hours each day.
// Optional for the queue-driven policies: a second redis-streams trigger in pendingEntriesCount mode (jobs being
// worked on per replica), which keeps a worker per running job and stops KEDA from scaling to zero mid-job.
//
// A run is a pure function of its arguments: same inputs, same result, bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facefleet/status.hpp"
#include "sim/hpa.hpp"
#include "sim/trace.hpp"
#include "sim/world.hpp"

namespace facefleet::sim {

enum class PolicyKind : std::uint8_t { kAlwaysOn, kHpaToZero, kKeda, kKedaPrewarm };

// "always-on" | "hpa-zero" | "keda" | "keda-prewarm".
std::string PolicyName(PolicyKind kind);
Result<PolicyKind> ParsePolicyName(const std::string& name);
std::vector<PolicyKind> AllPolicies();

// The ScaledObject's fields (defaults: KEDA's own, serving-facts.md §1).
struct KedaConfig {
  double polling_interval_s = 30;
  double cooldown_period_s = 300;
  double lag_count = 5;              // AverageValue target: undelivered jobs per replica
  double activation_lag_count = 0;   // active when lag > this
  double pending_entries_count = 0;  // > 0: add the pendingEntriesCount trigger with this target
  int min_replica_count = 0;
  int max_replica_count = 100;
};

// A KEDA cron trigger: `replicas` during business hours [start_h, end_h) of every day (sim time 0 = midnight).
// The cron window opens `lead_s` early so that the warm worker is ready when business hours begin (a cold start
// from an empty cluster takes ~9 min: poll + node + image pull + model load).
struct PrewarmSchedule {
  double start_h = 8;
  double end_h = 20;
  double lead_s = 900;
  int replicas = 1;
};

struct PolicyConfig {
  PolicyKind kind = PolicyKind::kKeda;
  int always_on_replicas = 1;
  KedaConfig keda;  // also the queue triggers of kHpaToZero
  HpaConfig hpa;    // sync period, tolerance, behavior; min/max are set from the policy
  PrewarmSchedule prewarm;
};

struct RunOptions {
  double horizon_s = 48 * 3600.0;
  // After the horizon the run continues without arrivals until every job is done, at most this long; jobs still
  // waiting then count with the wait they had so far.
  double drain_limit_s = 12 * 3600.0;
  double sample_interval_s = 60;
  double latency_target_s = 120;  // a job "misses" when its queue wait exceeds this
};

// One sample interval starting at t_s: maxima over the interval, except `replicas` (spec.replicas at its end).
struct Sample {
  double t_s = 0;
  int billed_nodes = 0;
  int ready_workers = 0;
  int queue = 0;
  int replicas = 0;
};

struct PolicyResult {
  PolicyKind kind = PolicyKind::kKeda;
  double end_s = 0;  // max(horizon, last completion)
  double gpu_hours = 0;
  int jobs = 0;
  int jobs_unserved = 0;  // never started before end_s
  int jobs_over_target = 0;
  double wait_mean_s = 0;
  double wait_p50_s = 0;
  double wait_p95_s = 0;
  double wait_p99_s = 0;
  double wait_max_s = 0;
  int max_replicas = 0;  // highest spec.replicas the policy set
  int peak_nodes = 0;
  int cold_node_starts = 0;
  int image_pulls = 0;
  std::vector<Sample> timeline;
  std::vector<JobRecord> job_records;
};

PolicyResult RunPolicy(const std::vector<Job>& jobs, const PolicyConfig& policy, const ClusterConfig& cluster,
                       const RunOptions& options);

// Nearest-rank percentile (p in [0, 100]) of sorted values; 0 for an empty vector.
double Percentile(const std::vector<double>& sorted, double p);

}  // namespace facefleet::sim
