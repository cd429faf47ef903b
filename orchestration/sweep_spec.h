// A parameter sweep file (docs/sweep.md): a base scenario, overrides shared by every point, axes of values
// (lists, arithmetic or geometric ranges, zipped groups of paths that vary together) and seeds. Read with
// located errors like a scenario ("sweep.yaml:LINE:COL: what; expected ..."), then expanded into the
// cartesian product of its axes, the first axis in the file varying slowest. Used by `gpufleet sweep`;
// the points it yields are resolved against the base scenario by sweep_plan.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/scenario/scenario_overrides.h"

namespace gpufleet {

// One axis: a single path, or several zipped paths that take their i-th values together.
struct SweepAxis {
  std::vector<std::string> paths;
  std::vector<std::string> origins;                   // per path: "SWEEP:LINE:COL" of its key, for messages
  std::vector<std::vector<ScenarioOverride>> values;  // values[step][path]; each origin names its value
};

struct SweepSpec {
  std::string file;      // the sweep file as given
  std::string text;      // its full text (stored in the database)
  std::string name;      // `name`, else the file's stem
  std::string base;      // the base scenario, resolved against the sweep file's folder
  std::vector<ScenarioOverride> fixed;  // `set`: applied to every point, before the axes
  std::vector<SweepAxis> axes;
  std::vector<int64_t> seeds;  // `seeds`; empty: `replications` seeds from the scenario's own seed
  int64_t replications = 1;
};

// The largest number of points a sweep may expand to (a range with a tiny step is a typo, not a study).
inline constexpr int64_t kMaxSweepPoints = 100000;

absl::StatusOr<SweepSpec> LoadSweepSpec(const std::string& path);
// For tests: `text` stands for a file named `name`.
absl::StatusOr<SweepSpec> ParseSweepSpec(const std::string& text, const std::string& name);

// The axes' cartesian product: one list of overrides per configuration (axes only, in axis order; the
// fixed `set` overrides are not repeated here). The first axis varies slowest.
std::vector<std::vector<ScenarioOverride>> ExpandConfigurations(const SweepSpec& spec);

}  // namespace gpufleet
