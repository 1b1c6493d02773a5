// The simulated cluster: the job stream (a Redis stream with one consumer group), the worker Deployment's pods,
// the GPU nodes and the cluster autoscaler (CA). Autoscaling policies only read lag()/pending() and call
// SetReplicas(); everything below the Deployment's replica count happens here.
//
// Model (every number in ClusterConfig; sources in /work/shared/reference/serving-facts.md §3):
// - One worker pod per GPU node; a node is billed from the moment the CA asks for it until it is deleted.
// - A pod that cannot be placed is Pending. Every CA scan (10 s) asks for one new node per Pending pod not
//   already covered by a node being provisioned; the node is ready node_provision_s later.
// - A pod placed on a node becomes ready after the image pull (skipped when the node already ran a worker,
//   i.e. has the image cached) and the model load.
// - An idle ready worker takes the oldest undelivered job at once (XREADGROUP, no prefetch). lag() counts jobs
//   not yet delivered; pending() counts jobs being worked on (delivered, not acknowledged).
// - Scale-in removes Pending pods first, then starting pods, then idle workers, newest first (the worker is
//   assumed to mark itself with a low controller.kubernetes.io/pod-deletion-cost while idle). A busy worker that
//   is picked drains: it takes no new job, finishes its running one and then exits (terminationGracePeriodSeconds
//   is assumed to exceed the longest job). So no job is ever cut short.
// - The CA deletes a node that has been empty for scale_down_unneeded_s, but not within
//   scale_down_delay_after_add_s of its last scale-up; at most 10 empty nodes per scan.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <set>
#include <vector>

#include "sim/events.hpp"
#include "sim/trace.hpp"

namespace facefleet::sim {

struct ClusterConfig {
  double node_provision_s = 210;  // GCE "usually 3 to 4 minutes" (CA FAQ), incl. driver/device plugin readiness
  double image_pull_s = 270;      // a 5-10 GB CUDA image on a fresh node: "4-5 min"
  double model_load_s = 20;       // process start + ONNX sessions on the GPU (assumption)
  double ca_scan_interval_s = 10;
  double scale_down_unneeded_s = 600;
  double scale_down_delay_after_add_s = 600;
  double scale_down_delay_after_delete_s = 10;  // = scan interval
  int max_empty_bulk_delete = 10;
  int max_nodes = 1000;
};

struct JobRecord {
  double arrival_s = 0;
  double service_s = 0;
  double start_s = -1;  // -1 until a worker takes it
  double finish_s = -1;
};

class World {
 public:
  World(ClusterConfig config, const std::vector<Job>& jobs, EventQueue& events);

  // Starts with `workers` ready workers on `workers` ready nodes at time 0 (image cached): the always-on fleet.
  void StartWarm(int workers);

  void OnArrival(double now_s, int job);
  void OnNodeReady(double now_s, int node);
  void OnPodReady(double now_s, int pod);
  void OnJobDone(double now_s, int pod);
  void OnCaScan(double now_s);

  // Sets the Deployment's spec.replicas and reconciles pods at once (the ReplicaSet controller's work).
  void SetReplicas(double now_s, int replicas);
  int replicas() const { return replicas_; }

  int lag() const { return static_cast<int>(queue_.size()); }
  int pending() const { return busy_; }
  int billed_nodes() const { return billed_nodes_; }
  int ready_workers() const { return static_cast<int>(idle_.size()) + busy_; }
  int cold_node_starts() const { return cold_node_starts_; }  // nodes the CA asked for (not the warm ones)
  int image_pulls() const { return image_pulls_; }

  // Node-seconds billed from time 0 to end_s (nodes still up are billed until end_s).
  double BilledNodeSeconds(double end_s) const;
  const std::vector<JobRecord>& jobs() const { return jobs_; }

 private:
  enum class PodState : std::uint8_t { kPending, kStarting, kIdle, kBusy, kGone };
  enum class NodeState : std::uint8_t { kProvisioning, kReady, kDeleted };

  struct Pod {
    PodState state = PodState::kPending;
    int node = -1;
    int job = -1;
    bool draining = false;
  };
  struct Node {
    NodeState state = NodeState::kProvisioning;
    int pod = -1;
    bool image_cached = false;
    double created_s = 0;
    double deleted_s = -1;
    double empty_since_s = -1;
  };

  void Dispatch(double now_s);
  void CreatePod(double now_s);
  void RemoveOnePod(double now_s);
  void BindPending(double now_s);
  void Bind(double now_s, int pod, int node);
  void ReleaseNode(double now_s, int pod);
  int AddNode(double now_s, NodeState state);

  ClusterConfig config_;
  EventQueue& events_;
  std::vector<JobRecord> jobs_;
  std::vector<Pod> pods_;
  std::vector<Node> nodes_;
  std::deque<int> queue_;    // undelivered jobs, oldest first
  std::set<int> idle_;       // ready workers without a job; the lowest id takes the next job
  std::set<int> pending_;    // pods without a node, oldest first
  std::set<int> live_pods_;  // pods not gone (including draining ones)
  std::set<int> empty_nodes_;
  int replicas_ = 0;
  int live_ = 0;  // pods counted against spec.replicas: not gone, not draining
  int busy_ = 0;
  int provisioning_ = 0;
  int billed_nodes_ = 0;
  int image_pulls_ = 0;
  int cold_node_starts_ = 0;
  double last_scale_up_s_ = -std::numeric_limits<double>::infinity();
  double last_scale_down_s_ = -std::numeric_limits<double>::infinity();
};

}  // namespace facefleet::sim
