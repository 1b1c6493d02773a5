// The Kubernetes Horizontal Pod Autoscaler's replica algorithm (autoscaling/v2), as documented in
// https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/ and described in
// /work/shared/reference/serving-facts.md §2:
//
//   desiredReplicas = ceil(currentReplicas × currentMetric / targetMetric), unchanged when the ratio is within
//   the tolerance (0.1) of 1; then the behavior: stabilisation windows (scale-down 300 s by default) and the
//   scale-up/scale-down rate policies (default: up max(100 %, 4 pods) per 15 s; down 100 % per 15 s); then
//   [minReplicas, maxReplicas].
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace facefleet::sim {

// The documented formula for one metric. `current_metric` is the per-pod average (or the utilisation), in the
// same unit as `target_metric`. Returns current_replicas when |ratio - 1| <= tolerance.
// Example (Kubernetes docs): 1 replica, 200m against a 100m target -> 2.
int HpaDesiredReplicas(int current_replicas, double current_metric, double target_metric, double tolerance);

// An External metric with target type AverageValue (what KEDA generates): `total` is the metric summed over the
// workload (e.g. the stream's lag) and `target_per_pod` the AverageValue target (e.g. lagCount). Equivalent to
// HpaDesiredReplicas with current_metric = total / current_replicas. With current_replicas == 0 (only reachable
// with minReplicas 0, i.e. the HPAScaleToZero gate) it returns ceil(total / target_per_pod).
int HpaAverageValueReplicas(int current_replicas, double total, double target_per_pod, double tolerance);

enum class HpaPolicyType : std::uint8_t { kPods, kPercent };
enum class HpaSelectPolicy : std::uint8_t { kMax, kMin, kDisabled };

struct HpaScalingPolicy {
  HpaPolicyType type = HpaPolicyType::kPercent;
  int value = 100;
  double period_s = 15;
};

struct HpaScalingRules {
  double stabilization_window_s = 0;
  HpaSelectPolicy select = HpaSelectPolicy::kMax;
  std::vector<HpaScalingPolicy> policies;
};

// spec.behavior with the Kubernetes defaults.
struct HpaBehavior {
  HpaScalingRules scale_up{
      0, HpaSelectPolicy::kMax, {{HpaPolicyType::kPercent, 100, 15}, {HpaPolicyType::kPods, 4, 15}}};
  HpaScalingRules scale_down{300, HpaSelectPolicy::kMax, {{HpaPolicyType::kPercent, 100, 15}}};
};

struct HpaConfig {
  double sync_period_s = 15;  // --horizontal-pod-autoscaler-sync-period
  double tolerance = 0.1;
  int min_replicas = 1;
  int max_replicas = 100;
  HpaBehavior behavior;
};

// One HPA object: remembers its past recommendations (for the stabilisation windows) and its past scale events
// (for the rate policies). Not thread-safe; one per simulated workload.
class HpaController {
 public:
  explicit HpaController(HpaConfig config) : config_(std::move(config)) {}

  // One sync at `now_s`. `metric_desired` is the metric-based proposal (the max over all metrics, each computed
  // with HpaAverageValueReplicas or HpaDesiredReplicas). Returns the replica count to set.
  int Sync(double now_s, int current_replicas, int metric_desired);

  const HpaConfig& config() const { return config_; }

 private:
  struct Recommendation {
    double time_s;
    int replicas;
  };
  struct ScaleEvent {
    double time_s;
    int change;  // > 0
  };

  int Stabilize(double now_s, int current_replicas, int metric_desired);
  int ScaleUpLimit(double now_s, int current_replicas) const;
  int ScaleDownLimit(double now_s, int current_replicas) const;
  static int ChangeInPeriod(const std::vector<ScaleEvent>& events, double now_s, double period_s);

  HpaConfig config_;
  std::vector<Recommendation> recommendations_;
  std::vector<ScaleEvent> scale_up_events_;
  std::vector<ScaleEvent> scale_down_events_;
};

}  // namespace facefleet::sim
