// What the cluster's power readings saw over a run (sim/engine/power_monitor.h fills it).
#pragma once

#include <cstdint>

namespace gpufleet {

struct PowerStats {
  int64_t readings = 0;
  double it_energy_j = 0;       // the readings' integral (equals the summary's server energy)
  double it_peak_w = 0;
  double it_p99_w = 0;
  double time_over_budget_s = 0;
  int64_t breaker_trips = 0;
  int64_t cap_events = 0;       // a controller set or lowered a replica's limit
  int64_t release_events = 0;   // ... lifted or raised one
};

}  // namespace gpufleet
