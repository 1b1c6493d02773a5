// A study: one trace, every selected policy side by side, a KEDA cooldownPeriod sweep, rendered as Markdown
// tables and two SVG plots. This is what facefleet-sim prints; docs/cost.md shows its output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facefleet/status.hpp"
#include "sim/simulator.hpp"
#include "sim/trace.hpp"
#include "sim/world.hpp"

namespace facefleet::sim {

struct GpuPrice {
  std::string name;  // "L4", "T4 spot"; may be empty
  double usd_per_hour = 0;
};

// "0.8048" or "L4=0.8048" (USD per GPU node-hour, > 0); kUsage otherwise.
Result<GpuPrice> ParseGpuPrice(const std::string& text);

struct StudyConfig {
  TraceSpec trace;
  ServiceModel service;
  std::uint64_t seed = 1;
  ClusterConfig cluster;
  // keda, hpa and prewarm settings shared by the policies; `kind` is ignored. keda.max_replica_count <= 0 means
  // "the always-on size" (a cost cap: never more GPUs than the fleet sized for the peak).
  PolicyConfig policy;
  int always_on_replicas = 0;  // 0: PeakSizedReplicas
  std::vector<PolicyKind> policies = AllPolicies();
  std::vector<GpuPrice> prices = {{"L4", 0.8048}};  // the first one prices the main table; at least one
  double latency_target_s = 120;
  std::vector<double> sweep_cooldowns_s = {0, 60, 120, 300, 600, 900, 1800};  // empty: no sweep
};

struct StudyOutput {
  std::string markdown;
  std::string timeline_svg;
  std::string tradeoff_svg;  // empty without a sweep
  std::vector<PolicyResult> results;
};

// kInputUnreadable / kUnsupportedMedia when a CSV trace cannot be read; kUsage for an empty price list.
Result<StudyOutput> RunStudy(const StudyConfig& config);

// One study per value of a flag (facefleet-sim --vary).
struct VaryRun {
  std::string value;
  StudyOutput output;
};

// A Markdown table with one row per run and policy; always-on rows are left out (they are the saving baseline of
// their run). `config` supplies the trace description, the first price and the latency target.
std::string VaryTable(const std::string& flag, const StudyConfig& config, const std::vector<VaryRun>& runs);

}  // namespace facefleet::sim
