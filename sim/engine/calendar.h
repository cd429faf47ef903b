// The engine's calendar: the dates at which the router and each replica act next, in one binary heap.
//
// One SimGrid actor runs the whole fleet from this calendar (simulation.cc) instead of an actor per
// replica: with 10,000 replicas, SimGrid's per-actor sleep (a CPU action in its LMM system, a context
// switch to the actor's own stack) cost 3-5 us per iteration, most of the run; a heap entry costs a
// fraction of that. Events at the same date run in the order they were scheduled (a sequence number breaks
// the tie), as SimGrid runs actors resumed in one round, so a run is the same event for event every time.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

namespace gpufleet {

class Calendar {
 public:
  static constexpr int kRouter = -1;    // `who` of the router's next arrival; replicas are >= 0
  static constexpr int kMigrator = -2;  // a live-migration round (migration.h)

  struct Event {
    double t_s;
    uint64_t seq;
    int who;
  };

  void Schedule(double t_s, int who) { heap_.push({t_s, next_seq_++, who}); }
  bool empty() const { return heap_.empty(); }
  const Event& top() const { return heap_.top(); }
  void pop() { heap_.pop(); }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.t_s > b.t_s || (a.t_s == b.t_s && a.seq > b.seq);
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace gpufleet
