// See regress_compare.h. Read-only on the databases it reads.
#include "orchestration/regress_compare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

std::string Text(sqlite3_stmt* s, int col) {
  const auto* t = sqlite3_column_text(s, col);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

std::string Value(const std::optional<double>& v) { return v ? absl::StrFormat("%.6g", *v) : "-"; }

// The signed relative change, or nullopt when there is no finite one (a value undefined, a zero baseline).
std::optional<double> RelativeChange(const std::optional<double>& base, const std::optional<double>& cur) {
  if (!base || !cur || *base == 0) return std::nullopt;
  return (*cur - *base) / std::fabs(*base);
}

std::string ChangeText(const MetricChange& c) {
  const auto rel = RelativeChange(c.baseline, c.current);
  if (rel) return absl::StrFormat("%+.2f%%", *rel * 100);
  if (c.baseline && c.current) return absl::StrFormat("%+.3g", *c.current - *c.baseline);
  return "n/a";
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kBetter: return "better";
    case Verdict::kSame: return "same";
    case Verdict::kWorse: return "WORSE";
  }
  return "?";
}

int ScenarioOutcome::Worse() const {
  return static_cast<int>(
      std::count_if(changes.begin(), changes.end(),
                    [](const MetricChange& c) { return c.verdict == Verdict::kWorse; }));
}

absl::StatusOr<RunIndex> ReadRunMetrics(const std::string& db_path, const std::vector<std::string>& metrics) {
  sqlite::DbInfo info;
  GF_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::OpenRunDatabaseForReading(db_path, &info));
  const auto have = sqlite::Columns(db.get(), "main", "run_summary");
  const auto has = [&](const std::string& c) { return std::find(have.begin(), have.end(), c) != have.end(); };
  std::string select;
  for (const std::string& m : metrics) {
    absl::StrAppend(&select, has(m) ? absl::StrCat(", s.\"", m, "\"") : ", NULL");
  }
  GF_ASSIGN_OR_RETURN(sqlite::Stmt q,
                      sqlite::Prepare(db.get(), absl::StrCat("SELECT r.scenario_path, r.seed, r.scenario_text, "
                                                             "r.gpufleet_version, ",
                                                             has("partial") ? "s.partial" : "0", select,
                                                             " FROM runs r JOIN run_summary s ON s.run_id = r.run_id "
                                                             "ORDER BY r.run_id")));
  RunIndex out;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    RunMetrics run;
    run.scenario = std::filesystem::path(Text(q.get(), 0)).filename().string();
    run.seed = sqlite3_column_int64(q.get(), 1);
    run.scenario_text = Text(q.get(), 2);
    run.version = Text(q.get(), 3);
    run.partial = sqlite3_column_int(q.get(), 4) != 0;
    for (size_t i = 0; i < metrics.size(); ++i) {
      const int col = static_cast<int>(5 + i);
      run.values[metrics[i]] = sqlite3_column_type(q.get(), col) == SQLITE_NULL
                                   ? std::nullopt
                                   : std::optional<double>(sqlite3_column_double(q.get(), col));
    }
    out[{run.scenario, run.seed}] = std::move(run);  // the latest run of a (scenario, seed) wins
  }
  if (rc != SQLITE_DONE) return sqlite::Error(db.get(), absl::StrCat(db_path, ": reading its runs"));
  return out;
}

std::vector<MetricChange> CompareRuns(const RunMetrics& baseline, const RunMetrics& current,
                                      const std::vector<MetricRule>& rules, std::vector<std::string>* notes) {
  std::vector<MetricChange> out;
  for (const MetricRule& rule : rules) {
    MetricChange c;
    c.metric = rule.metric;
    c.tolerance = rule.tolerance.Describe();
    auto b = baseline.values.find(rule.metric);
    auto n = current.values.find(rule.metric);
    if (b != baseline.values.end()) c.baseline = b->second;
    if (n != current.values.end()) c.current = n->second;
    if (c.baseline && !c.current) {
      c.verdict = Verdict::kWorse;
      c.detail = absl::StrCat(rule.metric, " is undefined now (no samples), was ", Value(c.baseline));
    } else if (!c.baseline && c.current) {
      notes->push_back(absl::StrCat(rule.metric, " is undefined in the baseline: not compared"));
    } else if (!c.baseline && !c.current) {
      notes->push_back(absl::StrCat(rule.metric, " is undefined in both runs (no samples, or no such column)"));
    } else if (c.baseline && c.current) {
      const double delta = *c.current - *c.baseline;
      const double wrong_way = rule.better == Better::kLower ? delta : -delta;
      const double allowed = rule.tolerance.Allowance(*c.baseline);
      if (wrong_way > allowed) {
        c.verdict = Verdict::kWorse;
      } else if (-wrong_way > allowed) {
        c.verdict = Verdict::kBetter;
      }
      c.detail = absl::StrCat(rule.metric, " ", Value(c.baseline), " -> ", Value(c.current), " (", ChangeText(c),
                              "; ", rule.better == Better::kLower ? "lower" : "higher", " is better)");
    }
    out.push_back(std::move(c));
  }
  if (current.partial && !baseline.partial) {
    MetricChange c;
    c.metric = "partial";
    c.baseline = 0;
    c.current = 1;
    c.verdict = Verdict::kWorse;
    c.tolerance = "none";
    c.detail = "the run stopped at a limit (partial: its figures cover part of the workload); the baseline's did not";
    out.push_back(std::move(c));
  }
  if (current.scenario_text != baseline.scenario_text) {
    notes->push_back("the scenario's text differs from the baseline's run");
  }
  if (current.version != baseline.version) {
    notes->push_back(absl::StrCat("baseline made by gpufleet ", baseline.version, ", this run by ", current.version));
  }
  return out;
}

std::string DescribeFailure(const ScenarioOutcome& outcome, const MetricChange& change) {
  return absl::StrCat(outcome.scenario, " (seed ", outcome.seed, "): ", change.detail,
                      change.metric == "partial" ? ""
                                                 : absl::StrCat(", worse beyond its tolerance of ", change.tolerance));
}

std::string FormatChangesTable(const std::vector<ScenarioOutcome>& outcomes) {
  size_t sw = 8, mw = 6;
  for (const ScenarioOutcome& o : outcomes) {
    sw = std::max(sw, o.scenario.size());
    for (const MetricChange& c : o.changes) mw = std::max(mw, c.metric.size());
  }
  const int w1 = static_cast<int>(sw), w2 = static_cast<int>(mw);
  std::string out = absl::StrFormat("%-*s  %-*s  %12s  %12s  %9s  %-18s  %s\n", w1, "scenario", w2, "metric",
                                    "baseline", "current", "change", "tolerance", "verdict");
  for (const ScenarioOutcome& o : outcomes) {
    if (!o.error.empty()) {
      absl::StrAppend(&out, absl::StrFormat("%-*s  %-*s  simulation FAILED: %s\n", w1, o.scenario, w2, "-", o.error));
      continue;
    }
    for (const MetricChange& c : o.changes) {
      absl::StrAppend(&out, absl::StrFormat("%-*s  %-*s  %12s  %12s  %9s  %-18s  %s\n", w1, o.scenario, w2, c.metric,
                                            Value(c.baseline), Value(c.current), ChangeText(c), c.tolerance,
                                            VerdictName(c.verdict)));
    }
  }
  return out;
}

}  // namespace gpufleet
