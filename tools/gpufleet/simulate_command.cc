// `gpufleet simulate SCENARIO`: validate, run, summarize, print, and optionally append to SQLite and
// write the run's time series as CSV.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>

#include "models/catalog.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/series.h"
#include "sim/metrics/summary.h"
#include "sim/report/json_report.h"
#include "sim/report/sqlite_report.h"
#include "sim/report/text_report.h"
#include "sim/scenario/scenario_loader.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {

std::function<int()> AddSimulateCommand(CLI::App& app) {
  struct Flags {
    std::string scenario;
    bool json = false;
    std::string db;
    bool per_request = false;
    bool check = false;
    bool verbose = false;
    bool no_progress = false;
    int64_t seed = -1;
    std::string catalog;
    double series_interval_s = 0;
    std::string series_csv;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("simulate", "Run a scenario and report latency, SLOs, throughput, utilization and cost");
  cmd->add_option("scenario", flags->scenario, "Scenario YAML file (see docs/scenario.md)")->required();
  cmd->add_flag("--json", flags->json, "Print the summary as one JSON object instead of a table");
  cmd->add_option("--db", flags->db, "Append the run to this SQLite database (created if absent)");
  cmd->add_flag("--per-request", flags->per_request, "With --db, also store one row per request");
  CLI::Option* series_interval =
      cmd->add_option("--series-interval", flags->series_interval_s,
                      "Record a time series every SECONDS of simulated time (>= 0.001; needs --db or --series-csv)");
  cmd->add_option("--series-csv", flags->series_csv, "With --series-interval, write the time series to this CSV file");
  cmd->add_flag("--check", flags->check, "Validate the scenario and exit without simulating");
  cmd->add_option("--seed", flags->seed, "Override the scenario's seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--catalog", flags->catalog, "Catalog directory (default: the built-in models/catalog)");
  cmd->add_flag("--verbose", flags->verbose, "Show SimGrid's own log on stderr");
  cmd->add_flag("--no-progress", flags->no_progress, "Never show the progress line");
  return [flags, cmd, series_interval]() -> int {
    if (flags->per_request && flags->db.empty()) {
      std::fprintf(stderr, "gpufleet: error: --per-request needs --db FILE\n");
      return 2;
    }
    const bool series = series_interval->count() > 0;
    if (series && !(flags->series_interval_s >= kMinSeriesIntervalS && std::isfinite(flags->series_interval_s))) {
      std::fprintf(stderr, "gpufleet: error: --series-interval must be a number of seconds >= %g, got %s\n",
                   kMinSeriesIntervalS, series_interval->as<std::string>().c_str());
      return 2;
    }
    if (series && flags->db.empty() && flags->series_csv.empty()) {
      std::fprintf(stderr, "gpufleet: error: --series-interval needs somewhere to put the series: "
                           "--db FILE or --series-csv FILE\n");
      return 2;
    }
    if (!series && !flags->series_csv.empty()) {
      std::fprintf(stderr, "gpufleet: error: --series-csv needs --series-interval SECONDS\n");
      return 2;
    }
    // Fail before a long run, not after it: the CSV is only written once the run has finished.
    if (!flags->series_csv.empty()) {
      const auto dir = std::filesystem::absolute(flags->series_csv).parent_path();
      if (!std::filesystem::is_directory(dir)) {
        std::fprintf(stderr, "gpufleet: error: %s: directory %s does not exist\n", flags->series_csv.c_str(),
                     dir.string().c_str());
        return 2;
      }
    }
    auto catalog = Catalog::LoadFromDir(flags->catalog.empty() ? Catalog::DefaultDir() : flags->catalog);
    if (!catalog.ok()) return ReportError(catalog.status());
    auto scenario = LoadScenario(flags->scenario, *catalog);
    if (!scenario.ok()) return ReportError(scenario.status());
    if (flags->seed >= 0) scenario->seed = static_cast<uint64_t>(flags->seed);
    if (flags->check) {
      std::printf("%s: OK (%d replicas of %s on %zu node groups)\n", flags->scenario.c_str(), scenario->total_replicas(),
                  scenario->model->name.c_str(), scenario->cluster.size());
      return 0;
    }
    RunOptions options;
    options.verbose = flags->verbose;
    options.progress = !flags->no_progress;
    options.series_interval_s = series ? flags->series_interval_s : 0;
    auto run = RunSimulation(*scenario, *catalog, options);
    if (!run.ok()) return ReportError(run.status());
    const RunSummary summary = Summarize(*scenario, *catalog, *run);
    if (!flags->db.empty()) {
      auto run_id = AppendRunToSqlite(flags->db, *scenario, summary, *run, SqliteWriteOptions{flags->per_request});
      if (!run_id.ok()) return ReportError(run_id.status());
      std::fprintf(stderr, "gpufleet: run %lld appended to %s\n", static_cast<long long>(*run_id), flags->db.c_str());
    }
    if (!flags->series_csv.empty()) {
      if (auto st = WriteSeriesCsv(flags->series_csv, run->series); !st.ok()) return ReportError(st);
    }
    if (flags->json) {
      std::cout << SummaryJson(summary, *run).dump(2) << "\n";
    } else {
      std::cout << SummaryTable(summary, *run);
    }
    return 0;
  };
}

}  // namespace gpufleet
