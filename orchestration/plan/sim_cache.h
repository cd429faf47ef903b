// The planner's memory of the simulations it has run, so that re-planning (another rate, price, SLO
// target, or the same plan again) reuses them instead of simulating again.
//
// An entry is one `gpufleet simulate` child's result (its JSON summary, or its error line) under a key that
// digests everything that decides it except the load and the seed, which are stored beside it: the
// gpufleet version, the base scenario's text, the plan's overrides, the fleet, the catalog, the calibration
// profiles and the trace's content (PlanSimulator::Key). In memory for one plan; with a database
// (`plan --cache`, or `--db`) also across plans, in its table `plan_cache`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace gpufleet {

struct CachedSim {
  bool ok = false;           // the child exited 0
  std::string out;           // its JSON summary (ok)
  std::string error_line;    // its last stderr line (not ok)
};

class SimCache {
 public:
  // Loads the entries `path` holds (a gpufleet run database, or a new file), and writes new ones to it.
  absl::Status Attach(const std::string& path, double wait_s);

  const CachedSim* Find(const std::string& key, double rate_multiplier, int64_t seed) const;
  // Every entry of `key` with `seed`, by rate multiplier (ascending).
  std::vector<std::pair<double, const CachedSim*>> Known(const std::string& key, int64_t seed) const;

  // Remembers a batch of results; with a database, appends them in one transaction.
  struct Entry {
    std::string key;
    double rate_multiplier = 1;
    int64_t seed = 0;
    CachedSim sim;
  };
  absl::Status Put(const std::vector<Entry>& entries);

  int64_t hits() const { return hits_; }
  void CountHit() { ++hits_; }

 private:
  std::map<std::tuple<std::string, int64_t, double>, CachedSim> entries_;  // (key, seed, multiplier)
  std::string path_;
  double wait_s_ = 0;
  int64_t hits_ = 0;
};

}  // namespace gpufleet
