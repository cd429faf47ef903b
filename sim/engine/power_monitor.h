// The cluster's IT power (every server: its GPUs and the rest) read every telemetry interval of the
// scenario's `power:` section, as a facility's power meters would: the peak and p99 over the run, the time
// over the budget, and breaker trips (over budget for a whole breaker window without a break).
//
// Nested domains (power.racks, power.rows: consecutive servers in cluster order) are read at the same
// times, each against its own budget. At each reading the scenario's power controller (policies/power/)
// may set the replicas' limits: one controller per domain of the lowest level with a budget (racks, else
// rows, else the cluster), each seeing its domain's power and replicas.
//
// Like the series sampler it adds no event (series_sampler.h says why): the router and replicas call CatchUp(now)
// before they change state, and the readings between two events follow from the state then. A reading
// covers (previous reading, k x interval]; an iteration straddling it counts pro rata (Replica's
// BusyUntil / BusyEnergyUntil).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "policies/power/power_controller.h"
#include "sim/engine/replica.h"
#include "sim/metrics/power_stats.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {


// A power domain: servers [first_server, first_server + servers).
struct PowerDomain {
  std::string name, level;
  int first_server = 0, servers = 0;
  double budget_w = 0;
};

// The cluster, then its racks and rows, of a cluster of `servers` servers.
std::vector<PowerDomain> PowerDomains(const PowerSpec& spec, int servers);
// The level the controllers act at: "rack", "row" or "cluster".
std::string ControlLevel(const PowerSpec& spec);

class PowerMonitor {
 public:
  struct Server {
    const NodeSpec* node = nullptr;
    const GpuSpec* gpu = nullptr;
    std::vector<int> replicas;  // replicas with GPUs on this server (a TP group may span servers)
    std::vector<int> gpus_here; // for each of them, its GPUs on this server
    int replica_gpus = 0;       // GPUs those replicas use here
  };
  // `controllers` (none, or one per domain of ControlLevel, in PowerDomains' order) set the replicas'
  // limits at each reading, and once at the start (as static caps need), with no actuation delay there.
  // `series` (null: none) receives every reading of the cluster, each server, rack and row.
  PowerMonitor(const PowerSpec& spec, const std::vector<std::unique_ptr<Replica>>* replicas, std::vector<Server> servers,
               std::vector<std::unique_ptr<PowerController>> controllers = {}, PowerSeriesSpool* series = nullptr);

  void CatchUp(double now_s) {
    if (now_s > next_t_) RecordUntil(now_s);
  }
  // The readings due up to `end_s` and a last, shorter one at `end_s`. Fails only when the power series
  // could not be written.
  absl::StatusOr<PowerStats> Finish(double end_s);

 private:
  void RecordUntil(double now_s);
  void Record(double t_s);
  // Hands the reading to the controllers and sends the limits they changed to the replicas.
  void Control(double t_s, double interval_s, double delay_s);

  struct Domain {
    PowerDomain spec;
    std::vector<int> replicas;     // on its servers
    std::unique_ptr<PowerController> controller;
    double last_w = 0;             // its latest reading
    double over_since_s = -1;      // start of the current over-budget stretch; -1: under budget
    bool tripped = false;          // the current stretch already counted as a trip
    std::vector<double> readings_w;
    DomainPowerStats stats;
  };
  // Books a reading of `w` over (t_s - interval_s, t_s] into `d`.
  void Track(Domain& d, double w, double t_s, double interval_s);

  PowerSpec spec_;
  const std::vector<std::unique_ptr<Replica>>* replicas_;
  std::vector<Server> servers_;
  std::vector<double> last_busy_s_, last_energy_j_;  // per replica, per GPU
  int64_t next_k_ = 1;
  double next_t_;
  double last_t_ = 0;
  std::vector<Domain> domains_;                  // [0] the cluster, then racks, then rows
  std::vector<double> server_w_;                 // each server's latest reading
  PowerStats stats_;
  bool controlled_ = false;
  std::vector<const GpuSpec*> replica_gpu_;      // each replica's GPU
  std::vector<ReplicaPowerState> states_;        // the controllers' view, refreshed at each reading
  std::vector<ReplicaPowerState> scope_states_;  // one domain's share of it
  std::vector<double> limits_w_;
  PowerSeriesSpool* series_;
  std::vector<PowerSeriesRow> series_rows_;  // a batch on its way to series_
  absl::Status series_error_;
};

// IT power of one server over an interval: its GPUs' mean powers (`gpu_w`, one per GPU) and the non-GPU
// parts at idle + (max - idle) x the GPUs' mean load ((power - idle) / (TDP - idle), clamped to [0, 1]).
double ServerPowerW(const NodeSpec& node, const GpuSpec& gpu, double gpu_power_sum_w, int gpus);

}  // namespace gpufleet
