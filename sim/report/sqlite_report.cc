// SQLite run report (see sqlite_report.h).
#include "sim/report/sqlite_report.h"

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/report/json_report.h"
#include "sim/util/status_macros.h"
#include "sim/util/utc_time.h"

namespace gpufleet {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat("sqlite: ", msg, " in: ", sql.substr(0, 200)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db), " in: ", sql.substr(0, 200)));
  }
  return Stmt(s);
}

// Binds values in order and steps once; resets for reuse.
class Row {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  Row& Int(int64_t v) { sqlite3_bind_int64(s_, ++i_, v); return *this; }
  Row& Real(double v) { sqlite3_bind_double(s_, ++i_, v); return *this; }
  Row& Text(const std::string& v) { sqlite3_bind_text(s_, ++i_, v.c_str(), -1, SQLITE_TRANSIENT); return *this; }
  Row& Null() { sqlite3_bind_null(s_, ++i_); return *this; }
  absl::Status Done(sqlite3* db) {
    const int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    i_ = 0;
    if (rc != SQLITE_DONE) return absl::InternalError(absl::StrCat("sqlite: ", sqlite3_errmsg(db)));
    return absl::OkStatus();
  }

 private:
  sqlite3_stmt* s_;
  int i_ = 0;
};

std::string Placeholders(size_t n) {
  std::vector<std::string> q(n, "?");
  return absl::StrJoin(q, ",");
}

// Numeric scalar keys of the summary JSON become run_summary's columns.
std::vector<std::pair<std::string, double>> SummaryColumns(const nlohmann::ordered_json& j) {
  std::vector<std::pair<std::string, double>> cols;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "seed") continue;
    if (it->is_number()) cols.emplace_back(it.key(), it->get<double>());
  }
  return cols;
}

absl::Status CreateSchema(sqlite3* db, const std::vector<std::pair<std::string, double>>& summary_cols) {
  std::vector<std::string> cols;
  for (const auto& [name, v] : summary_cols) cols.push_back(absl::StrCat(name, " REAL"));
  return Exec(db, absl::StrCat(R"sql(
CREATE TABLE IF NOT EXISTS schema_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO schema_info VALUES ('schema_version', ')sql", kSqliteSchemaVersion, R"sql(');
CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at TEXT NOT NULL,
  gpufleet_version TEXT NOT NULL,
  scenario_path TEXT NOT NULL,
  scenario_name TEXT NOT NULL,
  scenario_text TEXT NOT NULL,
  seed INTEGER NOT NULL,
  model TEXT NOT NULL,
  perf_model TEXT NOT NULL,
  power_model TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_summary (run_id INTEGER PRIMARY KEY REFERENCES runs(run_id), )sql",
                               absl::StrJoin(cols, ", "), R"sql();
CREATE TABLE IF NOT EXISTS slo_results (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), metric TEXT NOT NULL, target_s REAL NOT NULL,
  percentile REAL NOT NULL, observed_s REAL NOT NULL, met INTEGER NOT NULL, PRIMARY KEY (run_id, metric));
CREATE TABLE IF NOT EXISTS replicas (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), replica INTEGER NOT NULL, group_name TEXT NOT NULL,
  gpu TEXT NOT NULL, tensor_parallel INTEGER NOT NULL, hosts TEXT NOT NULL, requests INTEGER NOT NULL,
  prefill_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, iterations INTEGER NOT NULL,
  busy_s REAL NOT NULL, util REAL NOT NULL, preemptions INTEGER NOT NULL, kv_blocks INTEGER NOT NULL,
  kv_blocks_peak INTEGER NOT NULL, max_running INTEGER NOT NULL, PRIMARY KEY (run_id, replica));
CREATE TABLE IF NOT EXISTS gpus (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), host TEXT NOT NULL, gpu TEXT NOT NULL, node TEXT NOT NULL,
  replica INTEGER, busy_s REAL NOT NULL, util REAL NOT NULL, PRIMARY KEY (run_id, host));
CREATE TABLE IF NOT EXISTS costs (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), node TEXT NOT NULL, gpu TEXT NOT NULL, count INTEGER NOT NULL,
  gpus INTEGER NOT NULL, usd_per_node_hour REAL NOT NULL, usd_per_hour REAL NOT NULL, hours REAL NOT NULL,
  usd REAL NOT NULL, basis TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), request_id INTEGER NOT NULL, arrival_s REAL NOT NULL,
  prompt_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, status TEXT NOT NULL, replica INTEGER,
  ttft_s REAL, e2e_s REAL, queue_s REAL, tpot_s REAL, max_tbt_s REAL, preemptions INTEGER, slo_met INTEGER NOT NULL,
  PRIMARY KEY (run_id, request_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), t_s REAL NOT NULL, replica INTEGER NOT NULL,
  waiting INTEGER NOT NULL, running INTEGER NOT NULL, kv_used_blocks INTEGER NOT NULL,
  kv_total_blocks INTEGER NOT NULL, busy_s REAL NOT NULL, util REAL NOT NULL, output_tokens INTEGER NOT NULL,
  completed INTEGER NOT NULL, arrivals INTEGER NOT NULL, power_w REAL NOT NULL,
  PRIMARY KEY (run_id, replica, t_s)) WITHOUT ROWID;
)sql"));
}

// A database made by an earlier build may lack summary metrics added since: add them as columns (NULL
// for the older runs) instead of failing. Columns are never removed or renamed within a schema version.
absl::Status AddMissingSummaryColumns(sqlite3* db, const std::vector<std::pair<std::string, double>>& summary_cols) {
  GF_ASSIGN_OR_RETURN(Stmt info, Prepare(db, "PRAGMA table_info(run_summary)"));
  std::vector<std::string> have;
  while (sqlite3_step(info.get()) == SQLITE_ROW) have.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1)));
  for (const auto& [name, v] : summary_cols) {
    if (std::find(have.begin(), have.end(), name) == have.end()) {
      GF_RETURN_IF_ERROR(Exec(db, absl::StrCat("ALTER TABLE run_summary ADD COLUMN ", name, " REAL")));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckVersion(sqlite3* db, const std::string& path) {
  GF_ASSIGN_OR_RETURN(Stmt s, Prepare(db, "SELECT value FROM schema_info WHERE key = 'schema_version'"));
  if (sqlite3_step(s.get()) == SQLITE_ROW) {
    const std::string v = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    if (v != std::to_string(kSqliteSchemaVersion)) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": database schema version ", v, "; this gpufleet writes version ",
                                                        kSqliteSchemaVersion, " (use a new database file)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> WriteRun(sqlite3* db, const std::string& path, const Scenario& scenario,
                                 const RunSummary& summary, const RunResult& run, const SqliteWriteOptions& options) {
  const auto cols = SummaryColumns(SummaryJson(summary, run));
  GF_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  GF_RETURN_IF_ERROR(CreateSchema(db, cols));
  GF_RETURN_IF_ERROR(CheckVersion(db, path));
  GF_RETURN_IF_ERROR(AddMissingSummaryColumns(db, cols));

  GF_ASSIGN_OR_RETURN(Stmt run_stmt, Prepare(db, "INSERT INTO runs (created_at, gpufleet_version, scenario_path, "
                                                 "scenario_name, scenario_text, seed, model, perf_model, power_model) "
                                                 "VALUES (?,?,?,?,?,?,?,?,?)"));
  GF_RETURN_IF_ERROR(Row(run_stmt.get())
                         .Text(UtcNow("%Y-%m-%dT%H:%M:%SZ")).Text(GPUFLEET_VERSION).Text(scenario.path).Text(scenario.name)
                         .Text(scenario.text).Int(static_cast<int64_t>(scenario.seed)).Text(summary.model)
                         .Text(summary.perf_model).Text(summary.power_model)
                         .Done(db));
  const int64_t run_id = sqlite3_last_insert_rowid(db);

  std::vector<std::string> names;
  for (const auto& [name, v] : cols) names.push_back(name);
  GF_ASSIGN_OR_RETURN(Stmt sum_stmt, Prepare(db, absl::StrCat("INSERT INTO run_summary (run_id, ", absl::StrJoin(names, ", "),
                                                              ") VALUES (", Placeholders(cols.size() + 1), ")")));
  Row sum_row(sum_stmt.get());
  sum_row.Int(run_id);
  for (const auto& [name, v] : cols) sum_row.Real(v);
  GF_RETURN_IF_ERROR(sum_row.Done(db));

  GF_ASSIGN_OR_RETURN(Stmt slo_stmt, Prepare(db, "INSERT INTO slo_results VALUES (?,?,?,?,?,?)"));
  for (const SloOutcome& o : summary.slos) {
    GF_RETURN_IF_ERROR(Row(slo_stmt.get()).Int(run_id).Text(o.metric).Real(o.target_s).Real(o.percentile)
                           .Real(o.observed_s).Int(o.met).Done(db));
  }

  const double duration = summary.duration_s;
  GF_ASSIGN_OR_RETURN(Stmt rep_stmt, Prepare(db, "INSERT INTO replicas VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  for (const ReplicaResult& r : run.replicas) {
    GF_RETURN_IF_ERROR(Row(rep_stmt.get())
                           .Int(run_id).Int(r.replica).Text(r.group_name).Text(r.gpu).Int(r.tensor_parallel)
                           .Text(absl::StrJoin(r.hosts, ",")).Int(r.stats.requests).Int(r.stats.prefill_tokens)
                           .Int(r.stats.output_tokens).Int(r.stats.iterations).Real(r.stats.busy_s)
                           .Real(duration > 0 ? r.stats.busy_s / duration : 0).Int(r.stats.preemptions)
                           .Int(r.stats.kv_blocks_total).Int(r.stats.kv_blocks_peak).Int(r.stats.max_running)
                           .Done(db));
  }
  GF_ASSIGN_OR_RETURN(Stmt gpu_stmt, Prepare(db, "INSERT INTO gpus VALUES (?,?,?,?,?,?,?)"));
  for (const GpuResult& g : run.gpus) {
    Row row(gpu_stmt.get());
    row.Int(run_id).Text(g.host).Text(g.gpu).Text(g.node);
    if (g.replica >= 0) row.Int(g.replica); else row.Null();
    GF_RETURN_IF_ERROR(row.Real(g.busy_s).Real(duration > 0 ? g.busy_s / duration : 0).Done(db));
  }
  GF_ASSIGN_OR_RETURN(Stmt cost_stmt, Prepare(db, "INSERT INTO costs VALUES (?,?,?,?,?,?,?,?,?,?)"));
  for (const CostLine& l : summary.hardware.lines) {
    GF_RETURN_IF_ERROR(Row(cost_stmt.get())
                           .Int(run_id).Text(l.node).Text(l.gpu).Int(l.count).Int(l.gpus).Real(l.usd_per_node_hour)
                           .Real(l.usd_per_hour).Real(duration / 3600.0).Real(l.usd_per_hour * duration / 3600.0)
                           .Text(l.basis).Done(db));
  }
  if (summary.energy_usd_per_hour > 0) {
    GF_RETURN_IF_ERROR(Row(cost_stmt.get())
                           .Int(run_id).Text("energy").Text("").Int(0).Int(0).Real(0).Real(summary.energy_usd_per_hour)
                           .Real(duration / 3600.0).Real(summary.energy_usd_per_hour * duration / 3600.0)
                           .Text("energy_usd_per_kwh").Done(db));
  }
  if (options.per_request) {
    GF_ASSIGN_OR_RETURN(Stmt req_stmt, Prepare(db, "INSERT INTO requests VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    const auto& records = run.log.records();
    for (size_t id = 0; id < records.size(); ++id) {
      const RequestRecord& r = records[id];
      Row row(req_stmt.get());
      row.Int(run_id).Int(static_cast<int64_t>(id)).Real(r.arrival_s).Int(r.prompt_tokens).Int(r.output_tokens);
      if (r.status == RequestRecord::kCompleted) {
        row.Text("completed").Int(r.replica).Real(r.ttft_s).Real(r.e2e_s).Real(r.queue_s).Real(r.tpot_s)
            .Real(r.max_tbt_s).Int(r.preemptions);
      } else {
        row.Text(r.status == RequestRecord::kRejected ? "rejected" : "pending").Null().Null().Null().Null().Null()
            .Null().Null();
      }
      GF_RETURN_IF_ERROR(row.Int(r.slo_met).Done(db));
    }
  }
  if (!run.series.empty()) {
    GF_ASSIGN_OR_RETURN(Stmt series_stmt, Prepare(db, "INSERT INTO series VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    for (const SeriesSample& x : run.series) {
      GF_RETURN_IF_ERROR(Row(series_stmt.get())
                             .Int(run_id).Real(x.t_s).Int(x.replica).Int(x.waiting).Int(x.running)
                             .Int(x.kv_used_blocks).Int(x.kv_total_blocks).Real(x.busy_s).Real(x.util)
                             .Int(x.output_tokens).Int(x.completed).Int(x.arrivals).Real(x.power_w)
                             .Done(db));
    }
  }
  GF_RETURN_IF_ERROR(Exec(db, "COMMIT"));
  return run_id;
}

}  // namespace

absl::StatusOr<int64_t> AppendRunToSqlite(const std::string& db_path, const Scenario& scenario,
                                          const RunSummary& summary, const RunResult& run,
                                          const SqliteWriteOptions& options) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return absl::InvalidArgumentError(absl::StrCat(db_path, ": cannot open database: ", msg));
  }
  Db db(raw);
  sqlite3_busy_timeout(db.get(), 10000);
  auto run_id = WriteRun(db.get(), db_path, scenario, summary, run, options);
  if (!run_id.ok()) {
    const int code = sqlite3_errcode(db.get());
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    if (code == SQLITE_NOTADB) {
      return absl::InvalidArgumentError(absl::StrCat(db_path, ": not an SQLite database; expected a gpufleet run database or a new file"));
    }
    if (run_id.status().code() == absl::StatusCode::kInternal) {
      return absl::InternalError(absl::StrCat(db_path, ": ", run_id.status().message()));
    }
    return run_id.status();
  }
  return run_id;
}

}  // namespace gpufleet
