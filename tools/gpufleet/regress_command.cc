// `gpufleet regress --baseline BASE.db --scenarios DIR`: the policy regression gate (docs/regress.md). Runs
// every scenario of DIR as its own `gpufleet simulate` process, compares each run's metrics with the
// baseline database's run of the same scenario file and seed, prints a table of changes, writes JUnit XML
// for CI, and exits 1 when a metric got worse beyond its tolerance or a scenario failed. --update rewrites
// the baseline from this run instead. Everything checkable (flags, tolerance file, scenarios' seeds, the
// baseline holding every scenario, output paths) is checked before the first child starts: exit 2.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "orchestration/child_processes.h"
#include "orchestration/regress_compare.h"
#include "orchestration/regress_junit.h"
#include "orchestration/regress_runner.h"
#include "orchestration/regress_tolerances.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/atomic_file.h"
#include "sim/util/utc_time.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

struct Flags {
  std::string baseline, scenarios, tolerance, tolerances, junit, db;
  bool update = false;
  int jobs = 0;
  int64_t seed = -1;
};

absl::StatusOr<RegressTolerances> ReadTolerances(const Flags& f, std::string* used) {
  std::optional<double> relative;
  if (!f.tolerance.empty()) {
    auto t = ParseTolerance(f.tolerance, "--tolerance");
    if (!t.ok()) return t.status();
    relative = *t;
  }
  std::string file = f.tolerances;
  const std::string in_dir = (std::filesystem::path(f.scenarios) / "tolerances.yaml").string();
  std::error_code ec;
  if (file.empty() && std::filesystem::is_regular_file(in_dir, ec)) file = in_dir;
  *used = file;
  if (file.empty()) return DefaultTolerances(relative.value_or(0.02));
  return LoadTolerances(file, relative);
}

// The suite's scenarios the baseline lacks, as an error suggesting --update; OK when it has them all.
absl::Status CheckBaselineHasAll(const Flags& f, const RunIndex& base, const std::vector<RegressScenario>& suite) {
  std::vector<std::string> missing;
  for (const RegressScenario& s : suite) {
    if (base.count({s.name, s.seed}) == 0) missing.push_back(absl::StrCat(s.name, " (seed ", s.seed, ")"));
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--baseline ", f.baseline, ": has no run of ", absl::StrJoin(missing, ", "),
      "; a new scenario (or --seed) needs a baseline run first: `gpufleet regress --baseline ", f.baseline,
      " --scenarios ", f.scenarios, " --update` rewrites the baseline from the current code (review the change)"));
}

std::vector<ScenarioOutcome> Compare(const RegressRun& run, const RunIndex& base, const RegressTolerances& tol) {
  std::vector<ScenarioOutcome> out;
  for (const ScenarioRun& r : run.runs) {
    ScenarioOutcome o;
    o.scenario = r.scenario.name;
    o.seed = r.scenario.seed;
    o.error = r.error;
    auto b = base.find({o.scenario, o.seed});
    if (o.error.empty() && b != base.end()) {
      o.compared = true;
      o.changes = CompareRuns(b->second, r.metrics, tol.rules, &o.notes);
    } else if (o.error.empty()) {
      o.notes.push_back("not in the baseline yet");
    }
    out.push_back(std::move(o));
  }
  return out;
}

int Run(const Flags& f) {
  std::string tolerance_file;
  auto tol = ReadTolerances(f, &tolerance_file);
  if (!tol.ok()) return ReportError(tol.status());
  std::optional<int64_t> seed;
  if (f.seed >= 0) seed = f.seed;
  auto suite = FindRegressScenarios(f.scenarios, tolerance_file, seed);
  if (!suite.ok()) return ReportError(suite.status());
  if (!f.junit.empty()) {
    if (auto st = CheckOutputPath(f.junit, "--junit"); !st.ok()) return ReportError(st);
  }
  if (!f.db.empty()) {
    if (auto st = CheckRunDatabase(f.db); !st.ok()) return ReportError(st);
  }
  std::vector<std::string> metrics;
  for (const MetricRule& r : tol->rules) metrics.push_back(r.metric);
  std::error_code ec;
  RunIndex base;
  if (!f.update) {
    if (!std::filesystem::exists(f.baseline, ec)) {
      return ReportError(absl::InvalidArgumentError(absl::StrCat(
          "--baseline ", f.baseline, ": no such file; create it with `gpufleet regress --baseline ", f.baseline,
          " --scenarios ", f.scenarios, " --update`")));
    }
    auto read = ReadRunMetrics(f.baseline, metrics);
    if (!read.ok()) return ReportError(read.status());
    base = std::move(*read);
    if (auto st = CheckBaselineHasAll(f, base, *suite); !st.ok()) return ReportError(st);
  } else {
    if (auto st = CheckOutputPath(f.baseline, "--baseline"); !st.ok()) return ReportError(st);
    if (std::filesystem::exists(f.baseline, ec)) {
      // The changes the update makes, for the reviewer; a file that is no run database is not replaced.
      auto read = ReadRunMetrics(f.baseline, metrics);
      if (!read.ok()) return ReportError(read.status());
      base = std::move(*read);
    }
  }
  auto binary = SelfExecutable();
  if (!binary.ok()) return ReportError(binary.status());
  const int jobs = f.jobs > 0 ? f.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const bool terminal = isatty(2) != 0;
  InstallSweepSignalHandlers();
  auto run = RunRegressSuite(*suite, *binary, jobs, metrics, [&](size_t done, size_t total) {
    if (terminal) std::fprintf(stderr, "\rregress: %zu/%zu scenarios done%s", done, total, done == total ? "\n" : "");
  });
  if (!run.ok()) {
    if (run.status().code() == absl::StatusCode::kCancelled && StopSignal() != 0) {
      std::fprintf(stderr, "gpufleet: regress stopped by %s; nothing was written\n",
                   StopSignal() == SIGINT ? "SIGINT" : "SIGTERM");
      return 128 + StopSignal();
    }
    return ReportError(run.status());
  }
  const std::vector<ScenarioOutcome> outcomes = Compare(*run, base, *tol);
  const bool any_row = std::any_of(outcomes.begin(), outcomes.end(),
                                   [](const ScenarioOutcome& o) { return o.compared || !o.error.empty(); });
  if (any_row) std::fputs(FormatChangesTable(outcomes).c_str(), stdout);
  int worse = 0, better = 0, same = 0, failed = 0;
  for (const ScenarioOutcome& o : outcomes) {
    failed += o.error.empty() ? 0 : 1;
    for (const MetricChange& c : o.changes) {
      (c.verdict == Verdict::kWorse ? worse : c.verdict == Verdict::kBetter ? better : same) += 1;
    }
    for (const std::string& n : o.notes) std::printf("note: %s: %s\n", o.scenario.c_str(), n.c_str());
  }
  std::printf("regress: %zu scenarios (tolerances: %s), %.1f s: %d metrics worse, %d better, %d same; %d "
              "scenarios failed\n",
              outcomes.size(), tolerance_file.empty() ? "built-in" : tolerance_file.c_str(), run->wall_s, worse,
              better, same, failed);
  std::fflush(stdout);
  for (const auto& [key, r] : base) {
    const bool in_suite = std::any_of(suite->begin(), suite->end(), [&](const RegressScenario& s) {
      return s.name == key.first && s.seed == key.second;
    });
    if (!in_suite && !f.update) {
      std::fprintf(stderr, "gpufleet: note: the baseline's run of %s (seed %lld) has no scenario in %s: not compared\n",
                   key.first.c_str(), static_cast<long long>(key.second), f.scenarios.c_str());
    }
  }
  int rc = 0;
  if (!f.junit.empty()) {
    if (auto st = WriteFileAtomically(f.junit, RegressJUnitXml(outcomes, run->wall_s, UtcNow("%Y-%m-%dT%H:%M:%SZ")));
        !st.ok()) {
      rc = ReportError(st);
    }
  }
  if (!f.db.empty()) {
    if (auto st = run->AppendTo(f.db); !st.ok()) rc = ReportError(st);
  }
  for (const ScenarioOutcome& o : outcomes) {
    if (!o.error.empty()) std::fprintf(stderr, "gpufleet: %s (seed %lld): simulation failed: %s\n", o.scenario.c_str(),
                                       static_cast<long long>(o.seed), o.error.c_str());
  }
  if (f.update && failed > 0) {
    std::fprintf(stderr, "gpufleet: error: --update: %d scenarios failed; the baseline %s was left as it was\n", failed,
                 f.baseline.c_str());
    return 1;
  }
  if (f.update) {
    if (auto st = run->ReplaceBaseline(f.baseline); !st.ok()) return ReportError(st);
    std::printf("regress: baseline %s rewritten from this run (%zu scenarios)\n", f.baseline.c_str(), outcomes.size());
    return rc;
  }
  for (const ScenarioOutcome& o : outcomes) {
    for (const MetricChange& c : o.changes) {
      if (c.verdict != Verdict::kWorse) continue;
      std::fprintf(stderr, "gpufleet: regression: %s\n", DescribeFailure(o, c).c_str());
    }
  }
  if (worse > 0 || failed > 0) return 1;
  return rc;
}

}  // namespace

std::function<int()> AddRegressCommand(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("regress", "Run a suite of scenarios and fail when a metric got worse than the "
                                                "baseline's beyond its tolerance (docs/regress.md)");
  cmd->add_option("--baseline", f->baseline, "Baseline run database (written by --update)")->required();
  cmd->add_option("--scenarios", f->scenarios, "Folder of the suite's scenario files (*.yaml)")->required();
  cmd->add_option("--tolerance", f->tolerance, "Default relative tolerance, e.g. 2% or 0.02 (default: the tolerance "
                                               "file's, else 2%); a metric the file lists keeps its own");
  cmd->add_option("--tolerances", f->tolerances, "Tolerance file (default: DIR/tolerances.yaml when present)");
  cmd->add_option("--junit", f->junit, "Write JUnit XML here (one testcase per scenario and metric)");
  cmd->add_option("--db", f->db, "Also append this run's results to this run database");
  cmd->add_flag("--update", f->update, "Rewrite the baseline from this run (atomically) instead of failing on changes");
  cmd->add_option("--jobs,-j", f->jobs, "Scenarios run at once (default: the machine's cores)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", f->seed, "Run every scenario with this seed (the baseline needs runs with it)")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  return [f]() -> int { return Run(*f); };
}

}  // namespace gpufleet
