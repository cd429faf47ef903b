// A sweep's results read back from a run database (the sweeps, sweep_points, run_summary and slo_results
// tables), one entry per configuration of its axes: the runs of its seeds aggregated into each key metric's
// mean and, with two or more seeds, the half-width of its 95% confidence interval (Student t). Used by
// `gpufleet report`; report_format.h prints it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace gpufleet {

struct MetricStat {
  double mean = 0;
  double ci95 = 0;  // half-width; meaningful when n >= 2
  int64_t n = 0;    // runs with a value (a metric the run left undefined is skipped, never read as 0)
};

struct ReportPoint {
  int64_t config = 0;
  nlohmann::ordered_json overrides;  // {"PATH": value} in axis order
  std::vector<int64_t> seeds;        // of its finished runs
  int64_t failed = 0;                // seeds that failed (no run)
  std::string error;                 // one failed seed's error
  bool partial = false;              // a run stopped at a limit: its figures cover part of the workload
  bool meets_slos = true;            // every run met every SLO it evaluated (vacuous without runs)
  std::map<std::string, MetricStat> metrics;
};

struct SweepReport {
  std::string sweep_id, name, created_at;
  int64_t planned = 0;                     // points of the sweep (configurations x seeds)
  std::vector<std::string> override_paths;  // every path, in first-seen order
  std::vector<ReportPoint> points;          // by configuration
};

// The key metrics, in column order (run_summary columns, docs/sqlite-schema.md).
const std::vector<std::string>& ReportMetrics();
// Whether a larger value is better (throughput, attainment): `--sort` puts the best first.
bool HigherIsBetter(const std::string& metric);

// `selector`: a sweep's name (its latest run), its id or a prefix of it; empty: the latest sweep. A
// database without that sweep is InvalidArgument listing the sweeps it has.
// `metrics`: the run_summary columns to aggregate (those the database lacks are left out).
absl::StatusOr<SweepReport> ReadSweepReport(const std::string& db_path, const std::string& selector,
                                            const std::vector<std::string>& metrics = ReportMetrics());

// The two-sided 95% quantile of Student's t with `df` degrees of freedom (df >= 1).
double StudentT975(int64_t df);

}  // namespace gpufleet
