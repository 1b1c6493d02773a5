#include "sim/world.hpp"

#include <algorithm>

namespace facefleet::sim {

World::World(ClusterConfig config, const std::vector<Job>& jobs, EventQueue& events)
    : config_(config), events_(events) {
  jobs_.reserve(jobs.size());
  for (const Job& job : jobs) jobs_.push_back({job.arrival_s, job.service_s});
}

void World::StartWarm(int workers) {
  for (int i = 0; i < workers; ++i) {
    const int node = AddNode(0, NodeState::kReady);
    nodes_[node].image_cached = true;
    const int pod = static_cast<int>(pods_.size());
    pods_.push_back({PodState::kIdle, node, -1, false});
    nodes_[node].pod = pod;
    live_pods_.insert(pod);
    idle_.insert(pod);
    ++live_;
  }
  replicas_ += workers;
}

int World::AddNode(double now_s, NodeState state) {
  const int node = static_cast<int>(nodes_.size());
  nodes_.push_back({state, -1, false, now_s, -1, -1});
  ++billed_nodes_;
  if (state == NodeState::kProvisioning) {
    ++provisioning_;
    ++cold_node_starts_;
    events_.Push(now_s + config_.node_provision_s, EventKind::kNodeReady, node);
  }
  return node;
}

void World::OnArrival(double now_s, int job) {
  queue_.push_back(job);
  Dispatch(now_s);
}

void World::Dispatch(double now_s) {
  while (!queue_.empty() && !idle_.empty()) {
    const int pod = *idle_.begin();
    idle_.erase(idle_.begin());
    const int job = queue_.front();
    queue_.pop_front();
    pods_[pod].state = PodState::kBusy;
    pods_[pod].job = job;
    ++busy_;
    jobs_[job].start_s = now_s;
    events_.Push(now_s + jobs_[job].service_s, EventKind::kJobDone, pod);
  }
}

void World::OnJobDone(double now_s, int pod) {
  Pod& p = pods_[pod];
  jobs_[p.job].finish_s = now_s;
  p.job = -1;
  --busy_;
  if (p.draining) {
    p.state = PodState::kGone;
    ReleaseNode(now_s, pod);
  } else {
    p.state = PodState::kIdle;
    idle_.insert(pod);
  }
  Dispatch(now_s);
}

void World::OnPodReady(double now_s, int pod) {
  Pod& p = pods_[pod];
  if (p.state != PodState::kStarting) return;  // removed while starting
  p.state = PodState::kIdle;
  nodes_[p.node].image_cached = true;
  idle_.insert(pod);
  Dispatch(now_s);
}

void World::OnNodeReady(double now_s, int node) {
  Node& n = nodes_[node];
  n.state = NodeState::kReady;
  --provisioning_;
  n.empty_since_s = now_s;
  empty_nodes_.insert(node);
  BindPending(now_s);
}

void World::SetReplicas(double now_s, int replicas) {
  replicas_ = replicas;
  while (live_ < replicas_) CreatePod(now_s);
  while (live_ > replicas_) RemoveOnePod(now_s);
}

void World::CreatePod(double now_s) {
  const int pod = static_cast<int>(pods_.size());
  pods_.push_back({});
  live_pods_.insert(pod);
  pending_.insert(pod);
  ++live_;
  BindPending(now_s);
}

void World::RemoveOnePod(double now_s) {
  // Rank: pending < starting < idle < busy; within a rank the newest pod goes first.
  auto rank = [this](int pod) {
    switch (pods_[pod].state) {
      case PodState::kPending:
        return 0;
      case PodState::kStarting:
        return 1;
      case PodState::kIdle:
        return 2;
      case PodState::kBusy:
      case PodState::kGone:
        break;
    }
    return 3;
  };
  int victim = -1;
  std::for_each(live_pods_.rbegin(), live_pods_.rend(), [&](int pod) {  // newest first
    if (!pods_[pod].draining && (victim < 0 || rank(pod) < rank(victim))) victim = pod;
  });
  Pod& p = pods_[victim];
  --live_;
  switch (p.state) {
    case PodState::kPending:
      p.state = PodState::kGone;
      pending_.erase(victim);
      live_pods_.erase(victim);
      return;
    case PodState::kIdle:
      idle_.erase(victim);
      [[fallthrough]];
    case PodState::kStarting:
      p.state = PodState::kGone;
      ReleaseNode(now_s, victim);
      return;
    case PodState::kBusy:
    case PodState::kGone:
      break;
  }
  p.draining = true;  // graceful drain: OnJobDone removes it after its job
}

void World::ReleaseNode(double now_s, int pod) {
  live_pods_.erase(pod);
  Node& n = nodes_[pods_[pod].node];
  n.pod = -1;
  n.empty_since_s = now_s;
  empty_nodes_.insert(pods_[pod].node);
  BindPending(now_s);
}

void World::BindPending(double now_s) {
  while (!pending_.empty() && !empty_nodes_.empty()) {
    // Prefer a node that already has the image: the pod skips the pull.
    auto node = std::find_if(empty_nodes_.begin(), empty_nodes_.end(),
                             [this](int candidate) { return nodes_[candidate].image_cached; });
    if (node == empty_nodes_.end()) node = empty_nodes_.begin();
    const int pod = *pending_.begin();
    pending_.erase(pending_.begin());
    const int chosen = *node;
    empty_nodes_.erase(node);
    Bind(now_s, pod, chosen);
  }
}

void World::Bind(double now_s, int pod, int node) {
  Pod& p = pods_[pod];
  Node& n = nodes_[node];
  p.state = PodState::kStarting;
  p.node = node;
  n.pod = pod;
  n.empty_since_s = -1;
  double start_s = config_.model_load_s;
  if (!n.image_cached) {
    start_s += config_.image_pull_s;
    ++image_pulls_;
  }
  events_.Push(now_s + start_s, EventKind::kPodReady, pod);
}

void World::OnCaScan(double now_s) {
  // Scale-up: one node per unschedulable pod that no node in flight will take.
  const int unplaced = static_cast<int>(pending_.size()) - provisioning_;
  const int room = config_.max_nodes - billed_nodes_;
  const int add = std::min(unplaced, room);
  for (int i = 0; i < add; ++i) AddNode(now_s, NodeState::kProvisioning);
  if (add > 0) last_scale_up_s_ = now_s;

  // Scale-down of nodes that have been empty long enough, outside the cool-downs.
  if (now_s - last_scale_up_s_ < config_.scale_down_delay_after_add_s) return;
  if (now_s - last_scale_down_s_ < config_.scale_down_delay_after_delete_s) return;
  std::vector<int> doomed;
  for (const int node : empty_nodes_) {
    if (static_cast<int>(doomed.size()) >= config_.max_empty_bulk_delete) break;
    if (now_s - nodes_[node].empty_since_s >= config_.scale_down_unneeded_s) doomed.push_back(node);
  }
  for (const int node : doomed) {
    empty_nodes_.erase(node);
    nodes_[node].state = NodeState::kDeleted;
    nodes_[node].deleted_s = now_s;
    --billed_nodes_;
  }
  if (!doomed.empty()) last_scale_down_s_ = now_s;
}

double World::BilledNodeSeconds(double end_s) const {
  double total = 0;
  for (const Node& node : nodes_) total += (node.deleted_s >= 0 ? node.deleted_s : end_s) - node.created_s;
  return total;
}

}  // namespace facefleet::sim
