// See sweep_report.h. Read-only: the database is opened read-only and never changed.
#include "orchestration/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

std::string Text(sqlite3_stmt* s, int col) {
  const auto* t = sqlite3_column_text(s, col);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

absl::StatusOr<SweepReport> FindSweep(sqlite3* db, const std::string& path, const std::string& selector) {
  GF_ASSIGN_OR_RETURN(sqlite::Stmt q, sqlite::Prepare(db, "SELECT sweep_id, name, created_at, points FROM sweeps "
                                                          "ORDER BY created_at DESC, rowid DESC"));
  std::vector<std::string> known;
  while (sqlite3_step(q.get()) == SQLITE_ROW) {
    const std::string id = Text(q.get(), 0), name = Text(q.get(), 1);
    known.push_back(absl::StrCat(name, " (", id, ", ", Text(q.get(), 2), ")"));
    if (selector.empty() || selector == name || absl::StartsWith(id, selector)) {
      SweepReport r;
      r.sweep_id = id;
      r.name = name;
      r.created_at = Text(q.get(), 2);
      r.planned = sqlite3_column_int64(q.get(), 3);
      return r;
    }
  }
  if (known.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": holds no sweep; expected a database "
                                                                    "written by gpufleet sweep"));
  return absl::InvalidArgumentError(absl::StrCat(path, ": no sweep named or with id '", selector,
                                                 "'; expected one of: ", absl::StrJoin(known, "; ")));
}

void Aggregate(const std::vector<double>& values, MetricStat* stat) {
  stat->n = static_cast<int64_t>(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  stat->mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return;
  double ss = 0;
  for (double v : values) ss += (v - stat->mean) * (v - stat->mean);
  const double sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
  stat->ci95 = StudentT975(stat->n - 1) * sd / std::sqrt(static_cast<double>(stat->n));
}

}  // namespace

const std::vector<std::string>& ReportMetrics() {
  static const std::vector<std::string> metrics = {
      "ttft_p99_s",     "tbt_p99_s",   "e2e_p99_s",          "throughput_rps",         "throughput_tok_s",
      "slo_attainment", "goodput_rps", "gpus_deployed",      "gpu_util_deployed_mean", "cost_usd_per_hour",
      "cost_usd_per_mtok"};
  return metrics;
}

bool HigherIsBetter(const std::string& m) {
  return m == "throughput_rps" || m == "throughput_tok_s" || m == "slo_attainment" || m == "goodput_rps" ||
         m == "gpu_util_deployed_mean";
}

double StudentT975(int64_t df) {
  static constexpr double kTable[] = {12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
                                      2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
                                      2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423};
  if (df <= 30) return kTable[std::max<int64_t>(df, 1) - 1];
  // Cornish-Fisher expansion around the normal quantile: within 1e-4 of the exact value beyond 30.
  const double z = 1.959964, v = static_cast<double>(df);
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

absl::StatusOr<SweepReport> ReadSweepReport(const std::string& db_path, const std::string& selector,
                                            const std::vector<std::string>& wanted) {
  sqlite::DbInfo info;
  GF_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::OpenRunDatabaseForReading(db_path, &info));
  if (std::find(info.tables.begin(), info.tables.end(), "sweeps") == info.tables.end()) {
    return absl::InvalidArgumentError(absl::StrCat(db_path, ": holds no sweep; expected a database written by gpufleet sweep"));
  }
  GF_ASSIGN_OR_RETURN(SweepReport report, FindSweep(db.get(), db_path, selector));
  const auto have = sqlite::Columns(db.get(), "main", "run_summary");
  std::vector<std::string> metrics;
  for (const std::string& m : wanted) {
    if (std::find(have.begin(), have.end(), m) != have.end()) metrics.push_back(m);
  }
  std::string select;
  for (const std::string& m : metrics) absl::StrAppend(&select, ", s.\"", m, "\"");
  const bool has_partial = std::find(have.begin(), have.end(), "partial") != have.end();
  // One row per point key: its finished run if any (the earliest), else its failure.
  GF_ASSIGN_OR_RETURN(
      sqlite::Stmt q,
      sqlite::Prepare(db.get(), absl::StrCat(
          "SELECT p.config, p.overrides, p.seed, p.status, p.error, ",
          "(SELECT MIN(o.met) FROM slo_results o WHERE o.run_id = p.run_id), ",
          has_partial ? "s.partial" : "0", select,
          " FROM sweep_points p LEFT JOIN run_summary s ON s.run_id = p.run_id "
          "WHERE p.sweep_id = ?1 AND p.rowid = (SELECT q.rowid FROM sweep_points q WHERE q.sweep_id = ?1 AND "
          "q.point_key = p.point_key ORDER BY (q.status = 'ok' AND q.run_id IN (SELECT run_id FROM runs)) DESC, "
          "q.run_id, q.rowid DESC LIMIT 1) ORDER BY p.config, p.seed")));
  sqlite3_bind_text(q.get(), 1, report.sweep_id.c_str(), -1, SQLITE_TRANSIENT);
  std::map<int64_t, std::map<std::string, std::vector<double>>> values;
  std::set<std::string> paths_seen;
  while (sqlite3_step(q.get()) == SQLITE_ROW) {
    const int64_t config = sqlite3_column_int64(q.get(), 0);
    if (report.points.empty() || report.points.back().config != config) {
      ReportPoint p;
      p.config = config;
      p.overrides = nlohmann::ordered_json::parse(Text(q.get(), 1), nullptr, /*allow_exceptions=*/false);
      if (!p.overrides.is_object()) p.overrides = nlohmann::ordered_json::object();
      for (const auto& [path, v] : p.overrides.items()) {
        if (paths_seen.insert(path).second) report.override_paths.push_back(path);
      }
      report.points.push_back(std::move(p));
    }
    ReportPoint& p = report.points.back();
    if (Text(q.get(), 3) != "ok") {
      ++p.failed;
      p.error = Text(q.get(), 4);
      continue;
    }
    p.seeds.push_back(sqlite3_column_int64(q.get(), 2));
    if (sqlite3_column_type(q.get(), 5) != SQLITE_NULL && sqlite3_column_int(q.get(), 5) == 0) p.meets_slos = false;
    if (sqlite3_column_int(q.get(), 6) != 0) p.partial = true;
    for (size_t i = 0; i < metrics.size(); ++i) {
      if (sqlite3_column_type(q.get(), static_cast<int>(7 + i)) == SQLITE_NULL) continue;
      values[config][metrics[i]].push_back(sqlite3_column_double(q.get(), static_cast<int>(7 + i)));
    }
  }
  for (ReportPoint& p : report.points) {
    for (const auto& [m, v] : values[p.config]) Aggregate(v, &p.metrics[m]);
  }
  return report;
}

}  // namespace gpufleet
