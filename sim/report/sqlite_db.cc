// See sqlite_db.h.
#include "sim/report/sqlite_db.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/util/atomic_file.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace sqlite {
namespace {

// The tables of schema version 2; run_summary's metric columns come from the summary (CreateSummaryTable).
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS schema_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
  power_model TEXT NOT NULL,
  run_uid TEXT,
  stop_reason TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX IF NOT EXISTS runs_run_uid ON runs(run_uid);
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
  kv_transfer_s REAL, PRIMARY KEY (run_id, request_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), link TEXT NOT NULL, bandwidth_gbps REAL NOT NULL,
  bytes REAL NOT NULL, mean_util REAL NOT NULL, peak_util REAL NOT NULL, PRIMARY KEY (run_id, link));
CREATE TABLE IF NOT EXISTS series (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), t_s REAL NOT NULL, replica INTEGER NOT NULL,
  waiting INTEGER NOT NULL, running INTEGER NOT NULL, kv_used_blocks INTEGER NOT NULL,
  kv_total_blocks INTEGER NOT NULL, busy_s REAL NOT NULL, util REAL NOT NULL, output_tokens INTEGER NOT NULL,
  completed INTEGER NOT NULL, arrivals INTEGER NOT NULL, power_w REAL NOT NULL,
  PRIMARY KEY (run_id, replica, t_s)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS power_domains (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), name TEXT NOT NULL, level TEXT NOT NULL,
  first_server INTEGER NOT NULL, servers INTEGER NOT NULL, budget_w REAL, peak_w REAL NOT NULL,
  p99_w REAL NOT NULL, energy_kwh REAL NOT NULL, time_over_budget_s REAL, breaker_trips INTEGER,
  PRIMARY KEY (run_id, name));
CREATE TABLE IF NOT EXISTS power_series (
  run_id INTEGER NOT NULL REFERENCES runs(run_id), t_s REAL NOT NULL, domain TEXT NOT NULL, level TEXT NOT NULL,
  power_w REAL NOT NULL, PRIMARY KEY (run_id, domain, t_s)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sweeps (
  sweep_id TEXT PRIMARY KEY, name TEXT NOT NULL, sweep_path TEXT NOT NULL, sweep_text TEXT NOT NULL,
  points INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sweep_points (
  run_id INTEGER REFERENCES runs(run_id), sweep_id TEXT NOT NULL, point_key TEXT NOT NULL, config INTEGER NOT NULL,
  overrides TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL, error TEXT NOT NULL, wall_s REAL,
  finished_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sweep_points_sweep ON sweep_points(sweep_id, point_key);
CREATE INDEX IF NOT EXISTS sweep_points_key ON sweep_points(point_key);
CREATE TABLE IF NOT EXISTS plans (
  plan_id TEXT PRIMARY KEY, name TEXT NOT NULL, plan_path TEXT NOT NULL, plan_text TEXT NOT NULL,
  objective TEXT NOT NULL, candidates INTEGER NOT NULL, simulations INTEGER NOT NULL, wall_s REAL NOT NULL,
  created_at TEXT NOT NULL, result_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plan_candidates (
  plan_id TEXT NOT NULL, candidate INTEGER NOT NULL, gpu TEXT NOT NULL, tensor_parallel INTEGER NOT NULL,
  max_batched_tokens INTEGER NOT NULL, scheduler TEXT NOT NULL, feasible INTEGER NOT NULL,
  max_rate_multiplier REAL NOT NULL, saturated INTEGER NOT NULL, limiting TEXT NOT NULL,
  gpus_per_node INTEGER NOT NULL, node_usd_per_hour REAL NOT NULL, probes INTEGER NOT NULL,
  PRIMARY KEY (plan_id, candidate));
CREATE TABLE IF NOT EXISTS plan_fleets (
  plan_id TEXT NOT NULL, rate REAL NOT NULL, fleet TEXT NOT NULL, found INTEGER NOT NULL,
  cost_usd_per_hour REAL, ilp_cost_usd_per_hour REAL, gpus INTEGER, groups TEXT NOT NULL, log TEXT NOT NULL,
  PRIMARY KEY (plan_id, rate, fleet));
CREATE TABLE IF NOT EXISTS plan_capacities (
  plan_id TEXT NOT NULL, candidate INTEGER NOT NULL, bucket TEXT NOT NULL, share REAL NOT NULL,
  feasible INTEGER NOT NULL, max_rate_multiplier REAL NOT NULL, max_rps REAL NOT NULL, limiting TEXT NOT NULL,
  probes INTEGER NOT NULL, cached_probes INTEGER NOT NULL, PRIMARY KEY (plan_id, candidate, bucket));
CREATE TABLE IF NOT EXISTS plan_cache (
  cache_key TEXT NOT NULL, rate_multiplier REAL NOT NULL, seed INTEGER NOT NULL, ok INTEGER NOT NULL,
  summary_json TEXT NOT NULL, error TEXT NOT NULL, gpufleet_version TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (cache_key, rate_multiplier, seed)) WITHOUT ROWID;
)sql";

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

absl::Status UpgradeFromVersion1(sqlite3* db) {
  const auto cols = Columns(db, "main", "runs");
  if (!Contains(cols, "run_uid")) GF_RETURN_IF_ERROR(Exec(db, "ALTER TABLE runs ADD COLUMN run_uid TEXT"));
  if (!Contains(cols, "stop_reason")) {
    GF_RETURN_IF_ERROR(Exec(db, "ALTER TABLE runs ADD COLUMN stop_reason TEXT NOT NULL DEFAULT ''"));
  }
  GF_RETURN_IF_ERROR(Exec(db, absl::StrCat("UPDATE runs SET run_uid = ", LegacyRunUidSql("runs"),
                                           " WHERE run_uid IS NULL")));
  return Exec(db, "CREATE UNIQUE INDEX IF NOT EXISTS runs_run_uid ON runs(run_uid)");
}

}  // namespace

absl::StatusOr<Db> Open(const std::string& path, bool create, bool read_only) {
  sqlite3* raw = nullptr;
  const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0));
  if (sqlite3_open_v2(path.c_str(), &raw, flags, nullptr) != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open database: ", msg));
  }
  return Db(raw);
}

absl::Status Error(sqlite3* db, const std::string& what) {
  const std::string msg = absl::StrCat(what, ": ", sqlite3_errmsg(db));
  switch (sqlite3_errcode(db)) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return absl::DataLossError(msg);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return absl::InvalidArgumentError(absl::StrCat(what, ": not a usable SQLite database (", sqlite3_errmsg(db),
                                                     "); expected a gpufleet run database or a new file"));
    default:
      return absl::InternalError(msg);
  }
}

absl::Status Exec(sqlite3* db, const std::string& sql) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error(db, absl::StrCat("sqlite (in: ", sql.substr(0, 120), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    return Error(db, absl::StrCat("sqlite (in: ", sql.substr(0, 120), ")"));
  }
  return Stmt(s);
}

std::vector<std::string> Columns(sqlite3* db, const std::string& schema, const std::string& table) {
  std::vector<std::string> cols;
  auto info = Prepare(db, absl::StrCat("PRAGMA ", schema, ".table_info(", table, ")"));
  if (!info.ok()) return cols;
  while (sqlite3_step(info->get()) == SQLITE_ROW) {
    cols.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info->get(), 1)));
  }
  return cols;
}

absl::Status Row::Done(sqlite3* db) {
  const int rc = sqlite3_step(s_);
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  i_ = 0;
  if (rc != SQLITE_DONE) return Error(db, "sqlite");
  return absl::OkStatus();
}

absl::StatusOr<DbInfo> Inspect(sqlite3* db, const std::string& schema) {
  DbInfo info;
  GF_ASSIGN_OR_RETURN(Stmt tables, Prepare(db, absl::StrCat("SELECT name FROM ", schema,
                                                            ".sqlite_master WHERE type = 'table' ORDER BY name")));
  int rc;
  while ((rc = sqlite3_step(tables.get())) == SQLITE_ROW) {
    info.tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(tables.get(), 0)));
  }
  if (rc != SQLITE_DONE) return Error(db, "sqlite");
  if (info.tables.empty()) return info;
  if (!Contains(info.tables, "schema_info") || !Contains(info.tables, "runs")) {
    info.kind = DbKind::kForeign;
    return info;
  }
  GF_ASSIGN_OR_RETURN(Stmt v, Prepare(db, absl::StrCat("SELECT value FROM ", schema,
                                                       ".schema_info WHERE key = 'schema_version'")));
  if (sqlite3_step(v.get()) != SQLITE_ROW) {
    info.kind = DbKind::kForeign;
    return info;
  }
  info.kind = DbKind::kGpufleet;
  info.version = sqlite3_column_int(v.get(), 0);
  return info;
}

absl::StatusOr<Db> OpenRunDatabaseForReading(const std::string& path, DbInfo* info) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no such database file"));
  }
  GF_ASSIGN_OR_RETURN(Db db, Open(path, /*create=*/false, /*read_only=*/true));
  sqlite3_busy_timeout(db.get(), 10000);
  auto inspected = Inspect(db.get(), "main");
  if (!inspected.ok() || inspected->kind != DbKind::kGpufleet) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a gpufleet run database"));
  }
  *info = *std::move(inspected);
  return db;
}

absl::Status CheckWritable(const DbInfo& info, const std::string& path) {
  if (info.kind == DbKind::kForeign) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a gpufleet run database (it holds tables ",
                                                   absl::StrJoin(info.tables, ", "),
                                                   "); expected a gpufleet run database or a new file"));
  }
  if (info.kind == DbKind::kGpufleet && (info.version < 1 || info.version > kSqliteSchemaVersion)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": database schema version ", info.version,
                                                   "; this gpufleet writes version ", kSqliteSchemaVersion,
                                                   " and upgrades version 1 (use a new database file)"));
  }
  return absl::OkStatus();
}

absl::Status PrepareSchema(sqlite3* db, const std::string& path, const std::vector<std::string>& summary_columns) {
  GF_ASSIGN_OR_RETURN(DbInfo info, Inspect(db, "main"));
  GF_RETURN_IF_ERROR(CheckWritable(info, path));
  if (info.kind == DbKind::kGpufleet && info.version == 1) GF_RETURN_IF_ERROR(UpgradeFromVersion1(db));
  GF_RETURN_IF_ERROR(Exec(db, kSchemaSql));
  // Columns added to version 2 tables after their first release (NULL in older rows).
  if (!Contains(Columns(db, "main", "requests"), "kv_transfer_s")) {
    GF_RETURN_IF_ERROR(Exec(db, "ALTER TABLE requests ADD COLUMN kv_transfer_s REAL"));
  }
  GF_RETURN_IF_ERROR(Exec(db, absl::StrCat("INSERT OR REPLACE INTO schema_info VALUES ('schema_version', '",
                                           kSqliteSchemaVersion, "')")));
  GF_RETURN_IF_ERROR(Exec(db, "CREATE TABLE IF NOT EXISTS run_summary (run_id INTEGER PRIMARY KEY REFERENCES runs(run_id))"));
  // Summary metrics added by later builds become new columns (NULL for older runs); none is ever removed
  // or renamed.
  const std::vector<std::string> have = Columns(db, "main", "run_summary");
  for (const std::string& name : summary_columns) {
    if (!Contains(have, name)) {
      GF_RETURN_IF_ERROR(Exec(db, absl::StrCat("ALTER TABLE run_summary ADD COLUMN \"", name, "\" REAL")));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteWithRetry(const std::string& path, double wait_s, const std::function<absl::Status(sqlite3*)>& txn) {
  const auto start = std::chrono::steady_clock::now();
  double backoff_s = 0.05;
  while (true) {
    GF_ASSIGN_OR_RETURN(Db db, Open(path, /*create=*/true));
    const double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double left_s = std::max(0.0, wait_s - waited_s);
    // SQLite's busy handler waits for the lock first; this loop retries whole transactions (a writer can
    // also be refused mid-transaction, when upgrading its lock would deadlock), sleeping in between.
    sqlite3_busy_timeout(db.get(), static_cast<int>(std::min(left_s, 10.0) * 1000));
    absl::Status st = txn(db.get());
    if (st.ok()) return st;
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    if (st.code() == absl::StatusCode::kUnavailable && left_s > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(backoff_s, left_s)));
      backoff_s = std::min(backoff_s * 2, 5.0);
      continue;
    }
    if (st.code() == absl::StatusCode::kUnavailable) {
      return absl::UnavailableError(absl::StrFormat("%s: database still locked by another writer after %.0f s "
                                                    "(raise --db-wait)", path, waited_s));
    }
    if (absl::StartsWith(st.message(), path)) return st;
    return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  }
}

std::string LegacyRunUidSql(const std::string& t) {
  return absl::StrCat("'v1:' || ", t, ".created_at || ':' || ", t, ".seed || ':' || ", t, ".run_id || ':' || length(",
                      t, ".scenario_text)");
}

}  // namespace sqlite

absl::Status CheckRunDatabase(const std::string& path) {
  GF_RETURN_IF_ERROR(CheckOutputPath(path, "--db"));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return absl::OkStatus();  // created on append
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("--db ", path, ": not a regular file; expected a database file"));
  }
  GF_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Open(path, /*create=*/false));
  sqlite3_busy_timeout(db.get(), 2000);
  auto info = sqlite::Inspect(db.get(), "main");
  if (!info.ok()) {
    // Locked by another writer right now: the append will wait for it. Anything else is this file's fault.
    if (info.status().code() == absl::StatusCode::kUnavailable) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("--db ", path, ": not a usable SQLite database (",
                                                   sqlite3_errmsg(db.get()),
                                                   "); expected a gpufleet run database or a new file"));
  }
  return sqlite::CheckWritable(*info, absl::StrCat("--db ", path));
}

}  // namespace gpufleet
