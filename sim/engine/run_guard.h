// Ends a run that cannot finish in useful time, so that it returns a partial result instead of running on.
//
// Two rules (docs/report.md#partial-runs):
// - A bound on simulated time: limits.max_sim_time_s, by default 10 x horizon_s (no horizon: 10 x the last
//   arrival, once arrivals end), at least kMinDefaultLimitS, at most kMaxSimTimeS. The run ends at the
//   bound when the calendar's next event lies past it.
// - A diverging backlog: at checkpoints kCheckpointS apart, taken by the router at arrivals, the requests
//   outstanding (routed, not finished) grew at each of the last kGrowthCheckpoints checkpoints, exceed
//   kBacklogFactor x the sequences the fleet can run at once, and hold more output tokens still to
//   generate than the fleet, at its output-token rate since the first of those checkpoints, would
//   generate before the bound. The run would end partial at the bound anyway; it ends at once instead.
//
// Every check runs at the engine's own events, never at a timer of its own: a timer would perturb event
// dates (see series_sampler.h), so a run that stays within the limits is the same event for event, and a
// stopped run stops at the same point every time.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace gpufleet {

class RunGuard {
 public:
  static constexpr double kMinDefaultLimitS = 3600;   // a default bound below an hour would cut real drains
  static constexpr double kDefaultLimitFactor = 10;   // default bound: this x horizon_s (or the last arrival)
  static constexpr double kCheckpointS = 1;
  static constexpr int kGrowthCheckpoints = 5;
  static constexpr int64_t kBacklogFactor = 16;

  // `max_sim_time_s`: limits.max_sim_time_s (0: the default); `horizon_s`: infinite when the workload ends
  // by itself; `fleet_capacity`: the sequences all replicas can run at once (sum of max_batch_size).
  RunGuard(double max_sim_time_s, double horizon_s, int64_t fleet_capacity);

  double limit_s() const { return limit_s_; }
  bool stopped() const { return !reason_.empty(); }
  const std::string& reason() const { return reason_; }

  // True when an event at `t_s` (the end of an iteration, the next arrival) lies past the bound: the
  // engine then calls StopAtLimit() and ends the run at limit_s() instead of handling it.
  bool Beyond(double t_s) const { return t_s > limit_s_; }
  void StopAtLimit();

  // The router, at an arrival, before handling it: takes a checkpoint when one is due. `outstanding`:
  // requests routed and not finished; `output_left`: output tokens they have still to generate;
  // `output_done`: output tokens generated so far. On a diverging backlog ends the run and returns true.
  bool CheckBacklog(double now_s, int64_t outstanding, int64_t output_left, int64_t output_done);
  // The router, once arrivals have ended (the last one arrived at `now_s`): without horizon_s and
  // limits.max_sim_time_s the bound becomes 10 x the last arrival. Then one last checkpoint, as above.
  bool OnArrivalsDone(double now_s, int64_t outstanding, int64_t output_left, int64_t output_done);

 private:
  struct Checkpoint {
    double t_s;
    int64_t outstanding;
    int64_t output_left;
    int64_t output_done;
  };
  bool TakeCheckpoint(const Checkpoint& c);
  // Ends the run now: records why; the engine handles no further event.
  void Stop(std::string reason);

  double limit_s_;
  std::string limit_source_;   // where the bound comes from, for the stop reason
  bool limit_from_last_arrival_;
  int64_t fleet_capacity_;
  double next_checkpoint_s_ = kCheckpointS;
  std::deque<Checkpoint> checkpoints_;  // the last kGrowthCheckpoints + 1
  std::string reason_;
};

}  // namespace gpufleet
