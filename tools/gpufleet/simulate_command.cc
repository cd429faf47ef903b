// `gpufleet simulate SCENARIO`: validate the scenario and every output path, run, summarize, print, then
// write the time-series CSV and append to SQLite. The report is printed before anything is written, and an
// output that fails after the run keeps the result in a side file: a finished run is never lost.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/catalog.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/series.h"
#include "sim/metrics/summary.h"
#include "sim/report/json_report.h"
#include "sim/report/sqlite_report.h"
#include "sim/report/text_report.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/util/atomic_file.h"
#include "sim/util/utc_time.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

// The run could not go into its database: keep it in a side file beside the database (or, when that folder
// cannot take it either, in the temporary folder), which `gpufleet merge` adds later.
int KeepAside(const absl::Status& why, const std::string& db, const Scenario& scenario, const RunSummary& summary,
              const RunResult& run, SqliteWriteOptions options) {
  std::fprintf(stderr, "gpufleet: error: %s\n", std::string(why.message()).c_str());
  const std::string name = absl::StrCat(std::filesystem::path(db).filename().string(), ".pending-", options.run_uid, ".sqlite");
  const char* tmpdir = std::getenv("TMPDIR");
  const std::vector<std::filesystem::path> places = {std::filesystem::path(db).parent_path() / name,
                                                     std::filesystem::path(tmpdir != nullptr ? tmpdir : "/tmp") / name};
  options.wait_s = 0;
  for (const auto& place : places) {
    if (AppendRunToSqlite(place.string(), scenario, summary, run, options).ok()) {
      std::fprintf(stderr,
                   "gpufleet: the run is kept in %s; add it to the database later with:\n"
                   "  gpufleet merge %s %s\n",
                   place.c_str(), db.c_str(), place.c_str());
      return kExitKeptAside;
    }
    std::error_code ec;
    std::filesystem::remove(place, ec);
  }
  std::fprintf(stderr, "gpufleet: error: no side file could be written either; the report above is all that is left\n");
  return 1;
}

// What --fail-on-slo-miss fails on, one line each: missed or unevaluated SLOs, and a partial run (its
// figures cover part of the workload, so no SLO verdict stands).
std::vector<std::string> SloMisses(const RunSummary& summary) {
  std::vector<std::string> out;
  if (summary.partial) out.push_back(absl::StrCat("the run stopped at a limit (", summary.stop_reason, ")"));
  for (const SloOutcome& o : summary.slos) {
    if (!o.evaluated) {
      out.push_back(absl::StrFormat("%s p%g could not be evaluated: no samples", o.metric, o.percentile));
    } else if (!o.met) {
      out.push_back(absl::StrFormat("%s p%g is %.4g s, over the target %.4g s", o.metric, o.percentile, o.observed_s,
                                    o.target_s));
    }
  }
  return out;
}

}  // namespace

std::function<int()> AddSimulateCommand(CLI::App& app) {
  struct Flags {
    std::string scenario;
    bool json = false;
    std::string db;
    double db_wait_s = 120;
    bool per_request = false;
    bool check = false;
    bool verbose = false;
    bool no_progress = false;
    std::string seed;
    std::vector<std::string> sets;
    std::string catalog;
    double series_interval_s = 0;
    std::string series_csv;
    bool fail_on_slo_miss = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("simulate", "Run a scenario and report latency, SLOs, throughput, utilization and cost");
  cmd->add_option("scenario", flags->scenario, "Scenario YAML file (see docs/scenario.md)")->required();
  cmd->add_flag("--json", flags->json, "Print the summary as one JSON object instead of a table");
  cmd->add_option("--db", flags->db, "Append the run to this SQLite database (created if absent)");
  cmd->add_option("--db-wait", flags->db_wait_s,
                  "Seconds to keep retrying a database locked by other writers before keeping the run in a side file")
      ->check(CLI::Range(0.0, 86400.0))
      ->default_val(120);
  cmd->add_flag("--per-request", flags->per_request, "With --db, also store one row per request");
  CLI::Option* series_interval =
      cmd->add_option("--series-interval", flags->series_interval_s,
                      "Record a time series every SECONDS of simulated time (>= 0.001; needs --db or --series-csv)");
  cmd->add_option("--series-csv", flags->series_csv, "With --series-interval, write the time series to this CSV file");
  cmd->add_flag("--check", flags->check, "Validate the scenario and exit without simulating");
  cmd->add_option("--seed", flags->seed, "Override the scenario's seed (0 to 9223372036854775807)");
  // One PATH=VALUE per --set, so a value never swallows the scenario argument after it.
  cmd->add_option("--set", flags->sets,
                  "Override one scenario field, PATH=VALUE, e.g. deployment[0].replicas=6 (repeatable; docs/scenario.md)")
      ->allow_extra_args(false);
  cmd->add_option("--catalog", flags->catalog, "Catalog directory (default: the built-in models/catalog)");
  cmd->add_flag("--verbose", flags->verbose, "Show SimGrid's own log on stderr");
  cmd->add_flag("--no-progress", flags->no_progress, "Never show the progress line");
  cmd->add_flag("--fail-on-slo-miss", flags->fail_on_slo_miss,
                "Exit 1 (after the report and every output) when an SLO of the scenario is missed, could not be "
                "evaluated (no samples), or the run stopped at a limit: a gate for CI");
  return [flags, cmd, series_interval]() -> int {
    int64_t seed = -1;
    if (!flags->seed.empty() && (!absl::SimpleAtoi(flags->seed, &seed) || seed < 0)) {
      std::fprintf(stderr, "gpufleet: error: --seed %s: expected an integer from 0 to %lld\n", flags->seed.c_str(),
                   static_cast<long long>(std::numeric_limits<int64_t>::max()));
      return 2;
    }
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
    // Fail before a long run, not after it.
    if (!flags->series_csv.empty()) {
      if (auto st = CheckOutputPath(flags->series_csv, "--series-csv"); !st.ok()) return ReportError(st);
    }
    if (!flags->db.empty()) {
      if (auto st = CheckRunDatabase(flags->db); !st.ok()) return ReportError(st);
    }
    auto catalog = Catalog::LoadFromDir(flags->catalog.empty() ? Catalog::DefaultDir() : flags->catalog);
    if (!catalog.ok()) return ReportError(catalog.status());
    std::vector<ScenarioOverride> overrides;
    for (const std::string& set : flags->sets) {
      auto parsed = ParseOverride(set, absl::StrCat("--set ", set));
      if (!parsed.ok()) return ReportError(parsed.status());
      overrides.push_back(std::move(*parsed));
    }
    auto scenario = LoadScenario(flags->scenario, *catalog, overrides);
    if (!scenario.ok()) return ReportError(scenario.status());
    if (seed >= 0) scenario->seed = static_cast<uint64_t>(seed);
    if (flags->check) {
      std::printf("%s: OK (%d replicas of %s on %zu node groups)\n", flags->scenario.c_str(), scenario->total_replicas(),
                  scenario->model->name.c_str(), scenario->cluster.size());
      return 0;
    }
    std::unique_ptr<SeriesSpool> spool;
    if (series) {
      auto made = SeriesSpool::Create("time series");
      if (!made.ok()) return ReportError(made.status());
      spool = std::move(*made);
    }
    std::unique_ptr<RequestSpool> request_rows;
    if (flags->per_request) {
      auto made = RequestSpool::Create("per-request rows");
      if (!made.ok()) return ReportError(made.status());
      request_rows = std::move(*made);
    }
    // With a series into the database, the power readings of every domain too (SQLite only).
    std::unique_ptr<PowerSeriesSpool> power_rows;
    if (series && !flags->db.empty()) {
      auto made = PowerSeriesSpool::Create("power series");
      if (!made.ok()) return ReportError(made.status());
      power_rows = std::move(*made);
    }
    RunOptions options;
    options.requests = request_rows.get();
    options.power_series = power_rows.get();
    options.verbose = flags->verbose;
    options.progress = !flags->no_progress;
    options.series_interval_s = series ? flags->series_interval_s : 0;
    options.series = spool.get();
    auto run = RunSimulation(*scenario, *catalog, options);
    if (!run.ok()) return ReportError(run.status());
    const RunSummary summary = Summarize(*scenario, *catalog, *run);
    if (run->partial) std::fprintf(stderr, "gpufleet: warning: partial result: %s\n", run->stop_reason.c_str());

    // The report first: whatever happens to the files below, the result has been shown.
    if (flags->json) {
      auto json = SummaryJson(summary, *run);
      if (!json.ok()) return ReportError(json.status());
      std::cout << json->dump(2) << "\n" << std::flush;
    } else {
      std::cout << SummaryTable(summary, *run) << std::flush;
    }

    int exit_code = 0;
    if (!flags->series_csv.empty()) {
      if (auto st = WriteSeriesCsv(flags->series_csv, *spool); !st.ok()) {
        std::fprintf(stderr, "gpufleet: error: %s\n", std::string(st.message()).c_str());
        const char* tmpdir = std::getenv("TMPDIR");
        const std::string aside = (std::filesystem::path(tmpdir != nullptr ? tmpdir : "/tmp") /
                                   absl::StrCat(std::filesystem::path(flags->series_csv).filename().string(),
                                                ".pending-", NewRunUid(*scenario), ".csv")).string();
        if (WriteSeriesCsv(aside, *spool).ok()) {
          std::fprintf(stderr, "gpufleet: the time series is kept in %s\n", aside.c_str());
          exit_code = kExitKeptAside;
        } else {
          exit_code = 1;
        }
      }
    }
    if (!flags->db.empty()) {
      SqliteWriteOptions write{request_rows.get(), spool.get(), power_rows.get(), flags->db_wait_s, UtcNow("%Y-%m-%dT%H:%M:%SZ"),
                               NewRunUid(*scenario)};
      auto run_id = AppendRunToSqlite(flags->db, *scenario, summary, *run, write);
      if (run_id.ok()) {
        std::fprintf(stderr, "gpufleet: run %lld appended to %s\n", static_cast<long long>(*run_id), flags->db.c_str());
      } else {
        const int kept = KeepAside(run_id.status(), flags->db, *scenario, summary, *run, write);
        exit_code = exit_code == 0 ? kept : exit_code;
      }
    }
    if (flags->fail_on_slo_miss && exit_code == 0) {
      const std::vector<std::string> misses = SloMisses(summary);
      for (const std::string& m : misses) std::fprintf(stderr, "gpufleet: SLO missed: %s\n", m.c_str());
      if (!misses.empty()) exit_code = 1;
    }
    return exit_code;
  };
}

}  // namespace gpufleet
