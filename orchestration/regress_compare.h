// The comparison at the heart of `gpufleet regress`: a run's metrics read back from a run database
// (runs, run_summary: docs/sqlite-schema.md), set against the baseline's run of the same scenario and
// seed, metric by metric, with each metric's direction and tolerance (regress_tolerances.h); and the table
// of changes printed for a person. Floating-point values are never compared for equality: a change
// within its tolerance is "same", so a baseline made on another machine compares cleanly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/regress_tolerances.h"

namespace gpufleet {

// One run as regress sees it.
struct RunMetrics {
  std::string scenario;  // the scenario's file name (runs.scenario_path without its folder)
  int64_t seed = 0;
  bool partial = false;       // stopped at a limit
  std::string scenario_text;  // what was simulated
  std::string version;        // gpufleet_version
  std::map<std::string, std::optional<double>> values;  // metric -> value; nullopt when undefined (NULL)
};

// Baseline runs by (scenario file name, seed).
using RunIndex = std::map<std::pair<std::string, int64_t>, RunMetrics>;

// Every run of `db_path` (opened read-only), the latest of each (scenario, seed), with the values of
// `metrics`. A metric the database has no column for reads undefined (a database gains a summary column with
// the first run that defines it). A missing file or one that is no gpufleet database is InvalidArgument
// naming the path.
absl::StatusOr<RunIndex> ReadRunMetrics(const std::string& db_path, const std::vector<std::string>& metrics);

enum class Verdict { kBetter, kSame, kWorse };
const char* VerdictName(Verdict v);  // "better", "same", "WORSE"

struct MetricChange {
  std::string metric;
  std::optional<double> baseline, current;
  Verdict verdict = Verdict::kSame;
  std::string tolerance;  // as the rule says it ("2%", "0.005 abs")
  std::string detail;     // one line saying what moved, for a failure message
};

// Everything regress knows about one scenario of the suite.
struct ScenarioOutcome {
  std::string scenario;  // file name
  int64_t seed = 0;
  std::string error;     // its simulation failed (how, and its last line of stderr); no changes then
  bool compared = false;  // a baseline run was found and compared
  std::vector<MetricChange> changes;
  std::vector<std::string> notes;  // what a reader should know (the scenario's text changed, another version)
  int Worse() const;
  bool Failed() const { return !error.empty() || Worse() > 0; }
};

// Compares `current` with `baseline` under `rules`. A metric defined in the baseline but undefined now is
// WORSE; undefined in the baseline and defined now, or in both, is "same" (noted). A run that stopped at a
// limit when the baseline's did not adds a WORSE "partial" change.
std::vector<MetricChange> CompareRuns(const RunMetrics& baseline, const RunMetrics& current,
                                      const std::vector<MetricRule>& rules, std::vector<std::string>* notes);

// The changes as a fixed-width table: scenario, metric, baseline, current, change %, tolerance, verdict;
// failed scenarios as one row each.
std::string FormatChangesTable(const std::vector<ScenarioOutcome>& outcomes);

// "scenario.yaml (seed 42): ttft_p99_s 0.0864 -> 0.102 (+18.2%), worse beyond its tolerance of 2%".
std::string DescribeFailure(const ScenarioOutcome& outcome, const MetricChange& change);

}  // namespace gpufleet
