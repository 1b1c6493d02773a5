// The simulator's event queue: a min-heap on (time, insertion order).
//
// Contract: events at the same time come out in the order they were pushed, so a run is a pure function of its
// inputs (no dependence on heap implementation details or on pointer values).
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

namespace facefleet::sim {

enum class EventKind : std::uint8_t {
  kArrival,    // id: job index
  kNodeReady,  // id: node index; the cloud VM has booted and the GPU device plugin is ready
  kPodReady,   // id: pod index; image pulled and model loaded
  kJobDone,    // id: pod index
  kKedaPoll,   // KEDA's pollingInterval tick
  kHpaSync,    // the HPA controller's sync-period tick
  kCaScan,     // the cluster autoscaler's scan-interval tick
};

struct Event {
  double time_s = 0;
  std::uint64_t seq = 0;
  EventKind kind = EventKind::kArrival;
  int id = 0;
};

class EventQueue {
 public:
  void Push(double time_s, EventKind kind, int id = 0) { heap_.push({time_s, next_seq_++, kind, id}); }
  bool empty() const { return heap_.empty(); }
  // Precondition: !empty().
  Event Pop() {
    Event event = heap_.top();
    heap_.pop();
    return event;
  }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time_s != b.time_s ? a.time_s > b.time_s : a.seq > b.seq;
    }
  };

  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace facefleet::sim
