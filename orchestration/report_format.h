// `gpufleet report` output of a sweep (sweep_report.h): an aligned table, CSV, or JSON, after the optional
// filter (points that met their SLOs) and sort (best first).
#pragma once

#include <string>

#include "orchestration/sweep_report.h"

namespace gpufleet {

// Keeps the points with at least one run, all of whose runs met every SLO they evaluated.
void KeepPointsMeetingSlos(SweepReport* report);
// Sorts by `metric`'s mean, best first (HigherIsBetter); points without it last. `metric` must be one of
// ReportMetrics().
void SortPoints(SweepReport* report, const std::string& metric);

// One row per point: its overrides (short column names), runs, then each metric as "mean" or, over two
// or more seeds, "mean ±ci95"; failed points and their errors listed below.
std::string FormatReportTable(const SweepReport& report);
// Header: config, every override path, runs, failed, meets_slos, partial, then METRIC and METRIC_ci95 for
// each metric (empty when undefined); then one row per point.
std::string FormatReportCsv(const SweepReport& report);
// {"sweep": {...}, "metrics": [...], "points": [{config, overrides, seeds, runs, failed, error, partial,
// meets_slos, metrics: {METRIC: {mean, ci95 (two or more runs), n}}}]}.
std::string FormatReportJson(const SweepReport& report);

}  // namespace gpufleet
