// What `gpufleet regress` compares and how much change it forgives: the metrics (run_summary columns,
// docs/sqlite-schema.md), which way each is better, and each one's tolerance, from the built-in list, a
// tolerance file (scenarios/regress/tolerances.yaml; docs/regress.md) and --tolerance. A tolerance is
// relative (a fraction of the baseline's value), absolute (in the metric's unit) or both, the larger
// allowance winning: attainment is best judged in absolute points, a latency relative to itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gpufleet {

enum class Better { kLower, kHigher };

struct Tolerance {
  double relative = 0.02;  // fraction of |baseline|
  double absolute = 0;     // in the metric's unit
  // How far the metric may move the wrong way from `baseline` and still count as the same.
  double Allowance(double baseline) const;
  // "2%", "0.005 abs", "2% or 0.001 abs".
  std::string Describe() const;
};

struct MetricRule {
  std::string metric;  // a run_summary column
  Better better = Better::kLower;
  Tolerance tolerance;
};

struct RegressTolerances {
  std::string file;                // where they came from ("" for the built-in ones)
  std::vector<MetricRule> rules;   // in table order
};

// The metrics compared when no tolerance file says otherwise, with their directions: latency percentiles,
// SLO attainment, goodput, throughput, cost per million output tokens, GPU energy.
const std::vector<std::pair<std::string, Better>>& DefaultRegressMetrics();

// "2%", "0.5%" or "0.02" as a fraction (0.02); InvalidArgument for anything else or a negative value.
// `what` names the value in messages ("--tolerance").
absl::StatusOr<double> ParseTolerance(std::string_view text, std::string_view what);

// The built-in metrics, each with relative tolerance `relative` and no absolute one.
RegressTolerances DefaultTolerances(double relative);

// Reads a tolerance file:
//   default: {relative: 2%, absolute: 0}     # optional; for the metrics not listed below
//   metrics:                                 # optional; adds to or overrides the built-in metrics
//     ttft_p99_s: {relative: 3%, absolute: 0.002}
//     slo_attainment: {absolute: 0.005}      # half a point
//     queue_p99_s: {relative: 5%, better: lower}   # `better` required for a metric not built in
//     energy_kwh: {skip: true}               # not compared
// `cli_relative` (--tolerance), when given, replaces the default relative tolerance (the file's too).
// Errors (syntax, unknown key, bad value) are InvalidArgument located "file:line:col".
absl::StatusOr<RegressTolerances> LoadTolerances(const std::string& path, std::optional<double> cli_relative);

}  // namespace gpufleet
