// What the cluster's power readings saw over a run (sim/engine/power_monitor.h fills it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/metrics/spool.h"

namespace gpufleet {

// What one power domain's readings saw: the cluster, a rack (PDU) or a row.
struct DomainPowerStats {
  std::string name;    // "cluster", "rack-0", "row-1"
  std::string level;   // "cluster", "rack", "row"
  int first_server = 0, servers = 0;  // its servers, in cluster order
  double budget_w = 0;  // 0: none
  double peak_w = 0, p99_w = 0, energy_j = 0;
  double time_over_budget_s = 0;
  int64_t breaker_trips = 0;
};

// One reading of one domain, for the power time series (the power_series table). `domain` indexes
// PowerStats::series_domains.
struct PowerSeriesRow {
  double t_s = 0;
  int32_t domain = 0;
  double power_w = 0;
};
using PowerSeriesSpool = Spool<PowerSeriesRow>;

struct PowerStats {
  int64_t readings = 0;
  double it_energy_j = 0;       // the readings' integral (equals the summary's server energy)
  double it_peak_w = 0;
  double it_p99_w = 0;
  double time_over_budget_s = 0;
  int64_t breaker_trips = 0;
  int64_t cap_events = 0;       // a controller set or lowered a replica's limit
  int64_t release_events = 0;   // ... lifted or raised one
  std::vector<DomainPowerStats> domains;  // racks, then rows (empty without power.racks)
  // With a power series: the names and levels its rows' `domain` indexes (cluster, servers, racks, rows).
  std::vector<std::string> series_names, series_levels;
};

}  // namespace gpufleet
