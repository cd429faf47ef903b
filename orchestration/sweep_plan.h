// A sweep's points, resolved: each configuration of the axes applied to the base scenario's text (with the
// sweep's fixed overrides first), times each seed. A point's key hashes its resolved scenario text, seed
// and the gpufleet version, so it names what was simulated, not how the sweep file spelled it: a point is
// run once per database whatever sweep asks for it (resume, overlapping sweeps), and again after an upgrade.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/sweep_spec.h"

namespace gpufleet {

struct SweepPoint {
  int64_t index = 0;                        // its place in the sweep's order
  int64_t config = 0;                       // index of its axes' combination (replications share it)
  std::vector<ScenarioOverride> overrides;  // the axes' values, in axis order
  int64_t seed = 0;
  std::string key;                          // PointKey of its resolved text and seed
};

struct SweepPlan {
  std::string sweep_id;  // hash of the sweep's name and of every point key: same sweep, same id
  std::vector<SweepPoint> points;
};

// Reads the base scenario and resolves every point. An override the base scenario cannot take (a path
// whose parent is missing, an index out of range) is InvalidArgument naming the sweep file's line.
// Whether each resolved scenario is valid is left to its run: an impossible combination is a failed point.
absl::StatusOr<SweepPlan> PlanSweep(const SweepSpec& spec);

// 16 hex digits: FNV-1a of "TEXT\nSEED\nVERSION" (stable across processes and machines).
std::string PointKey(const std::string& resolved_text, int64_t seed);

// The overrides as a JSON object {"PATH": value}: numbers and booleans as such, anything else as its text.
std::string OverridesJson(const std::vector<ScenarioOverride>& overrides);

// The arguments after the binary that run `point` into the database `shard`:
// simulate BASE --set ... --seed S --json --db SHARD --no-progress.
std::vector<std::string> SimulateArgs(const SweepSpec& spec, const SweepPoint& point, const std::string& shard);

}  // namespace gpufleet
