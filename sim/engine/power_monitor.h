// The cluster's IT power (every server: its GPUs and the rest) read every telemetry interval of the
// scenario's `power:` section, as a facility's power meters would: the peak and p99 over the run, the time
// over the budget, and breaker trips (over budget for a whole breaker window without a break).
//
// At each reading the scenario's power controller (policies/power/) may set the replicas' limits.
//
// Like the series sampler it adds no event (series_sampler.h says why): the router and replicas call CatchUp(now)
// before they change state, and the readings between two events follow from the state then. A reading
// covers (previous reading, k x interval]; an iteration straddling it counts pro rata (Replica's
// BusyUntil / BusyEnergyUntil).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/catalog.h"
#include "policies/power/power_controller.h"
#include "sim/engine/replica.h"
#include "sim/metrics/power_stats.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {


class PowerMonitor {
 public:
  struct Server {
    const NodeSpec* node = nullptr;
    const GpuSpec* gpu = nullptr;
    std::vector<int> replicas;  // replicas on this server (all their GPUs here: TP stays inside a node)
    int replica_gpus = 0;       // GPUs those replicas use
  };
  // `controller` (null: none) sets the replicas' limits at each reading, and once at the start (as
  // static caps need), with no actuation delay there.
  PowerMonitor(const PowerSpec& spec, const std::vector<std::unique_ptr<Replica>>* replicas, std::vector<Server> servers,
               std::unique_ptr<PowerController> controller = nullptr);

  void CatchUp(double now_s) {
    if (now_s > next_t_) RecordUntil(now_s);
  }
  // The readings due up to `end_s` and a last, shorter one at `end_s`.
  PowerStats Finish(double end_s);

 private:
  void RecordUntil(double now_s);
  void Record(double t_s);
  // Hands the reading to the controller and sends the limits it changed to the replicas.
  void Control(double t_s, double interval_s, double it_w, double delay_s);

  PowerSpec spec_;
  const std::vector<std::unique_ptr<Replica>>* replicas_;
  std::vector<Server> servers_;
  std::vector<double> last_busy_s_, last_energy_j_;  // per replica, per GPU
  int64_t next_k_ = 1;
  double next_t_;
  double last_t_ = 0;
  double over_since_s_ = -1;  // start of the current over-budget stretch; -1: under budget
  bool tripped_ = false;      // the current stretch already counted as a trip
  std::vector<double> readings_w_;
  PowerStats stats_;
  std::unique_ptr<PowerController> controller_;
  std::vector<const GpuSpec*> replica_gpu_;      // each replica's GPU
  std::vector<ReplicaPowerState> states_;        // the controller's view, refreshed at each reading
  std::vector<double> limits_w_;
};

// IT power of one server over an interval: its GPUs' mean powers (`gpu_w`, one per GPU) and the non-GPU
// parts at idle + (max - idle) x the GPUs' mean load ((power - idle) / (TDP - idle), clamped to [0, 1]).
double ServerPowerW(const NodeSpec& node, const GpuSpec& gpu, double gpu_power_sum_w, int gpus);

}  // namespace gpufleet
