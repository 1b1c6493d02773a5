#include "sim/hpa.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace facefleet::sim {
namespace {

// ceil() of a quotient computed in floating point: 3 × (0.7 / 0.7) may come out as 3.0000000000000004, which must
// not become 4.
int CeilReplicas(double value) { return static_cast<int>(std::ceil(value - 1e-9)); }

// Recommendations and scale events older than this can no longer matter (periodSeconds is at most 1800 and the
// stabilisation windows are at most 3600 s in the API).
constexpr double kHistoryS = 3600;

}  // namespace

int HpaDesiredReplicas(int current_replicas, double current_metric, double target_metric, double tolerance) {
  const double ratio = current_metric / target_metric;
  if (std::abs(1.0 - ratio) <= tolerance) return current_replicas;
  return CeilReplicas(current_replicas * ratio);
}

int HpaAverageValueReplicas(int current_replicas, double total, double target_per_pod, double tolerance) {
  if (current_replicas == 0) return total > 0 ? CeilReplicas(total / target_per_pod) : 0;
  const double ratio = total / (target_per_pod * current_replicas);
  if (std::abs(1.0 - ratio) <= tolerance) return current_replicas;
  return CeilReplicas(total / target_per_pod);
}

int HpaController::ChangeInPeriod(const std::vector<ScaleEvent>& events, double now_s, double period_s) {
  int change = 0;
  for (const ScaleEvent& event : events) {
    if (event.time_s > now_s - period_s) change += event.change;
  }
  return change;
}

int HpaController::Stabilize(double now_s, int current_replicas, int metric_desired) {
  // Scale up no further than the lowest, and down no further than the highest, recommendation in the window.
  int up = metric_desired;
  int down = metric_desired;
  const HpaBehavior& behavior = config_.behavior;
  for (const Recommendation& rec : recommendations_) {
    if (rec.time_s > now_s - behavior.scale_up.stabilization_window_s) up = std::min(up, rec.replicas);
    if (rec.time_s > now_s - behavior.scale_down.stabilization_window_s) down = std::max(down, rec.replicas);
  }
  std::erase_if(recommendations_, [now_s](const Recommendation& rec) { return rec.time_s <= now_s - kHistoryS; });
  recommendations_.push_back({now_s, metric_desired});
  int stabilized = current_replicas;
  if (stabilized < up) stabilized = up;
  if (stabilized > down) stabilized = down;
  return stabilized;
}

int HpaController::ScaleUpLimit(double now_s, int current_replicas) const {
  const HpaScalingRules& rules = config_.behavior.scale_up;
  if (rules.select == HpaSelectPolicy::kDisabled || rules.policies.empty()) return current_replicas;
  const bool pick_max = rules.select == HpaSelectPolicy::kMax;
  int result = pick_max ? std::numeric_limits<int>::min() : std::numeric_limits<int>::max();
  for (const HpaScalingPolicy& policy : rules.policies) {
    const int period_start = current_replicas - ChangeInPeriod(scale_up_events_, now_s, policy.period_s) +
                             ChangeInPeriod(scale_down_events_, now_s, policy.period_s);
    const int proposed = policy.type == HpaPolicyType::kPods
                             ? period_start + policy.value
                             : static_cast<int>(std::ceil(period_start * (1 + policy.value / 100.0)));
    result = pick_max ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

int HpaController::ScaleDownLimit(double now_s, int current_replicas) const {
  const HpaScalingRules& rules = config_.behavior.scale_down;
  if (rules.select == HpaSelectPolicy::kDisabled || rules.policies.empty()) return current_replicas;
  // "Max" selects the policy that allows the biggest change, i.e. the lowest replica count.
  const bool pick_max_change = rules.select == HpaSelectPolicy::kMax;
  int result = pick_max_change ? std::numeric_limits<int>::max() : std::numeric_limits<int>::min();
  for (const HpaScalingPolicy& policy : rules.policies) {
    const int period_start = current_replicas - ChangeInPeriod(scale_up_events_, now_s, policy.period_s) +
                             ChangeInPeriod(scale_down_events_, now_s, policy.period_s);
    const int proposed = policy.type == HpaPolicyType::kPods
                             ? period_start - policy.value
                             : static_cast<int>(period_start * (1 - policy.value / 100.0));
    result = pick_max_change ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

int HpaController::Sync(double now_s, int current_replicas, int metric_desired) {
  // Outside [min, max] the HPA moves to the bound without consulting the metrics.
  if (current_replicas > config_.max_replicas) return config_.max_replicas;
  if (current_replicas < config_.min_replicas) return config_.min_replicas;
  const int stabilized = Stabilize(now_s, current_replicas, metric_desired);
  int result = stabilized;
  if (stabilized > current_replicas) {
    const int limit = std::max(ScaleUpLimit(now_s, current_replicas), current_replicas);
    result = std::min(stabilized, std::min(config_.max_replicas, limit));
  } else if (stabilized < current_replicas) {
    const int limit = std::min(ScaleDownLimit(now_s, current_replicas), current_replicas);
    result = std::max(stabilized, std::max(config_.min_replicas, limit));
  }
  std::erase_if(scale_up_events_, [now_s](const ScaleEvent& e) { return e.time_s <= now_s - kHistoryS; });
  std::erase_if(scale_down_events_, [now_s](const ScaleEvent& e) { return e.time_s <= now_s - kHistoryS; });
  if (result > current_replicas) scale_up_events_.push_back({now_s, result - current_replicas});
  if (result < current_replicas) scale_down_events_.push_back({now_s, current_replicas - result});
  return result;
}

}  // namespace facefleet::sim
