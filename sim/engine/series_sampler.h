// Samples the fleet every `interval_s` of simulated time into SeriesSample rows (sim/metrics/series.h).
//
// The sampler adds no event to the calendar. A timed sampler would change the run (under SimGrid's clock,
// which finishes every action within precision/timing (1 ns) of the current date together, a wake-up at
// k x interval pulled an iteration ending up to 1 ns later back to the sampler's date), and it would cost
// an event per sample. Instead the router and the replicas call CatchUp(now)
// before they change any state; since nothing changed between the previous event and `now`, the state
// they see then is the state at every sample time in between. Sample k lies at k x interval_s and covers
// (previous sample, k x interval_s]: events at exactly a sample time belong to the interval they end.
// Finish() adds the last sample at the end of the run, whose interval may be shorter. Samples go to a
// SeriesSpool in batches, so the series never grows in memory however long the run.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/catalog.h"
#include "sim/engine/replica.h"
#include "sim/metrics/series.h"

namespace gpufleet {

class SeriesSampler {
 public:
  // `replica_gpus[i]`: the GPU model of replicas[i], whose every GPU draws power (tensor_parallel of them);
  // `unused_idle_w`: idle power of the cluster's GPUs that hold no replica, counted in the fleet row.
  SeriesSampler(double interval_s, const std::vector<std::unique_ptr<Replica>>* replicas,
                std::vector<const GpuSpec*> replica_gpus, double unused_idle_w, SeriesSpool* out);

  // Call before changing any state at simulated time `now_s`; cheap when no sample is due.
  void CatchUp(double now_s) {
    if (now_s > next_t_) RecordUntil(now_s);
  }
  void OnArrival() { ++arrivals_; }
  // Records the samples due up to `end_s` and the last one at `end_s`, and flushes them. Returns the first
  // error the spool reported during the run (a full disk), if any.
  absl::Status Finish(double end_s);

 private:
  void RecordUntil(double now_s);
  void Record(double t_s);
  void Flush();

  struct Cumulative {
    double busy_s = 0;
    double busy_energy_j = 0;
    int64_t output_tokens = 0, completed = 0, requests = 0;
  };

  double interval_s_;
  const std::vector<std::unique_ptr<Replica>>* replicas_;
  std::vector<const GpuSpec*> gpus_;
  double unused_idle_w_;
  int64_t next_k_ = 1;
  double next_t_;
  double last_t_ = 0;
  int64_t arrivals_ = 0, last_arrivals_ = 0;
  std::vector<Cumulative> last_;
  std::vector<SeriesSample> samples_;  // recorded, not yet flushed
  SeriesSpool* out_;
  absl::Status error_;
};

}  // namespace gpufleet
