// `gpufleet report DB`: a sweep's results as a table (default), CSV or JSON: one row per configuration of
// its axes, its overrides and key metrics, averaged over seeds with 95% confidence intervals
// (orchestration/sweep_report.h). Reads the database only.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_join.h"
#include "orchestration/capacity_view.h"
#include "orchestration/report_format.h"
#include "orchestration/sweep_report.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {

std::function<int()> AddReportCommand(CLI::App& app) {
  struct Flags {
    std::string db;
    std::string sweep;
    bool csv = false;
    bool json = false;
    std::string sort;
    bool meets_slos = false;
    std::string capacity;
    double min_attainment = -1;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("report", "Print a sweep's results from a run database (docs/sweep.md)");
  cmd->add_option("db", f->db, "Run database written by gpufleet sweep")->required();
  cmd->add_option("--sweep", f->sweep, "Sweep name (its latest run) or id (default: the latest sweep)");
  auto* csv = cmd->add_flag("--csv", f->csv, "Print CSV");
  cmd->add_flag("--json", f->json, "Print one JSON object")->excludes(csv);
  cmd->add_option("--sort", f->sort, "Sort by this metric's mean, best first");
  auto* meets = cmd->add_flag("--meets-slos", f->meets_slos, "Keep only points whose runs met every evaluated SLO");
  auto* capacity = cmd->add_option("--capacity", f->capacity,
                                   "A load axis (e.g. workload.rate_multiplier): one row per configuration of the "
                                   "other axes, at the highest load it sustains from the lowest up (meets_slos: "
                                   "whether any load did)")
                       ->excludes(meets);
  cmd->add_option("--min-attainment", f->min_attainment,
                  "With --capacity: a load is sustained when its SLO attainment (share of requests meeting every "
                  "SLO) is at least this, instead of every fleet-level SLO percentile being met")
      ->check(CLI::Range(0.0, 1.0))
      ->needs(capacity);
  return [f]() -> int {
    const auto& metrics = ReportMetrics();
    if (!f->sort.empty() && std::find(metrics.begin(), metrics.end(), f->sort) == metrics.end()) {
      std::fprintf(stderr, "gpufleet: error: --sort %s: unknown metric; expected one of: %s\n", f->sort.c_str(),
                   absl::StrJoin(metrics, ", ").c_str());
      return 2;
    }
    auto report = ReadSweepReport(f->db, f->sweep);
    if (!report.ok()) return ReportError(report.status());
    if (f->meets_slos) KeepPointsMeetingSlos(&*report);
    if (!f->capacity.empty()) {
      std::optional<double> min_attainment;
      if (f->min_attainment >= 0) min_attainment = f->min_attainment;
      if (auto st = KeepCapacityPoints(&*report, f->capacity, min_attainment); !st.ok()) return ReportError(st);
    }
    if (!f->sort.empty()) SortPoints(&*report, f->sort);
    std::cout << (f->json  ? FormatReportJson(*report)
                  : f->csv ? FormatReportCsv(*report)
                           : FormatReportTable(*report))
              << std::flush;
    return 0;
  };
}

}  // namespace gpufleet
