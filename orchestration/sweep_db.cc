// See sweep_db.h. Every write is one transaction through sqlite::WriteWithRetry, so a database locked by a
// reader (gpufleet report, sqlite3) is waited for rather than failed.
#include "orchestration/sweep_db.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

constexpr double kWaitS = 120;

absl::Status InsertPoint(sqlite3* db, const std::string& sweep_id, const SweepPoint& p, const std::string& status,
                         const std::string& error, double wall_s, const std::string& finished_at,
                         const std::string& run_id_sql) {
  GF_ASSIGN_OR_RETURN(sqlite::Stmt s,
                      sqlite::Prepare(db, absl::StrCat("INSERT INTO sweep_points (run_id, sweep_id, point_key, config, "
                                                       "overrides, seed, status, error, wall_s, finished_at) VALUES (",
                                                       run_id_sql, ", ?, ?, ?, ?, ?, ?, ?, ?, ?)")));
  sqlite::Row row(s.get());
  row.Text(sweep_id).Text(p.key).Int(p.config).Text(OverridesJson(p.overrides)).Int(p.seed).Text(status).Text(error);
  if (wall_s >= 0) row.Real(wall_s); else row.Null();
  return row.Text(finished_at).Done(db);
}

absl::Status DeleteFailures(sqlite3* db, const std::string& sweep_id, const std::string& key) {
  GF_ASSIGN_OR_RETURN(sqlite::Stmt s, sqlite::Prepare(db, "DELETE FROM sweep_points WHERE sweep_id = ? AND "
                                                          "point_key = ? AND status = 'failed'"));
  return sqlite::Row(s.get()).Text(sweep_id).Text(key).Done(db);
}

}  // namespace

absl::Status RegisterSweep(const std::string& db_path, const SweepSpec& spec, const SweepPlan& plan,
                           const std::string& created_at) {
  return sqlite::WriteWithRetry(db_path, kWaitS, [&](sqlite3* db) -> absl::Status {
    GF_RETURN_IF_ERROR(sqlite::Exec(db, "BEGIN IMMEDIATE"));
    GF_RETURN_IF_ERROR(sqlite::PrepareSchema(db, db_path, {}));
    GF_ASSIGN_OR_RETURN(sqlite::Stmt s, sqlite::Prepare(db, "INSERT OR IGNORE INTO sweeps (sweep_id, name, sweep_path, "
                                                            "sweep_text, points, created_at) VALUES (?, ?, ?, ?, ?, ?)"));
    GF_RETURN_IF_ERROR(sqlite::Row(s.get()).Text(plan.sweep_id).Text(spec.name).Text(spec.file).Text(spec.text)
                           .Int(static_cast<int64_t>(plan.points.size())).Text(created_at).Done(db));
    return sqlite::Exec(db, "COMMIT");
  });
}

absl::StatusOr<SweepState> FinishedPoints(const std::string& db_path, const SweepPlan& plan, const std::string& now) {
  SweepState state;
  std::set<std::string>& done = state.done;
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) return state;
  GF_RETURN_IF_ERROR(sqlite::WriteWithRetry(db_path, kWaitS, [&](sqlite3* db) -> absl::Status {
    state = SweepState();
    GF_RETURN_IF_ERROR(sqlite::Exec(db, "BEGIN IMMEDIATE"));
    GF_ASSIGN_OR_RETURN(sqlite::Stmt f, sqlite::Prepare(db, "SELECT DISTINCT point_key FROM sweep_points WHERE "
                                                            "sweep_id = ? AND status = 'failed'"));
    sqlite3_bind_text(f.get(), 1, plan.sweep_id.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(f.get()) == SQLITE_ROW) {
      state.failed.insert(reinterpret_cast<const char*>(sqlite3_column_text(f.get(), 0)));
    }
    // key -> (run_id, already in this sweep)
    std::map<std::string, std::pair<int64_t, bool>> ok;
    GF_ASSIGN_OR_RETURN(sqlite::Stmt q, sqlite::Prepare(db, "SELECT point_key, MIN(run_id), MAX(sweep_id = ?) FROM "
                                                            "sweep_points WHERE status = 'ok' AND run_id IN "
                                                            "(SELECT run_id FROM runs) GROUP BY point_key"));
    sqlite3_bind_text(q.get(), 1, plan.sweep_id.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      ok[reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0))] = {sqlite3_column_int64(q.get(), 1),
                                                                             sqlite3_column_int(q.get(), 2) != 0};
    }
    for (const SweepPoint& p : plan.points) {
      auto it = ok.find(p.key);
      if (it == ok.end()) continue;
      if (!it->second.second) {
        GF_RETURN_IF_ERROR(DeleteFailures(db, plan.sweep_id, p.key));
        GF_RETURN_IF_ERROR(InsertPoint(db, plan.sweep_id, p, "ok", "", -1, now, absl::StrCat(it->second.first)));
        it->second.second = true;
      }
      done.insert(p.key);
    }
    return sqlite::Exec(db, "COMMIT");
  }));
  return state;
}

absl::StatusOr<std::set<std::string>> FinishedKeys(const std::string& db_path) {
  std::set<std::string> keys;
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) return keys;
  GF_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Open(db_path, /*create=*/false, /*read_only=*/true));
  sqlite3_busy_timeout(db.get(), static_cast<int>(kWaitS * 1000));
  GF_ASSIGN_OR_RETURN(sqlite::DbInfo info, sqlite::Inspect(db.get(), "main"));
  const auto tables = info.tables;
  if (std::find(tables.begin(), tables.end(), "sweep_points") == tables.end()) return keys;
  GF_ASSIGN_OR_RETURN(sqlite::Stmt q, sqlite::Prepare(db.get(), "SELECT DISTINCT point_key FROM sweep_points WHERE "
                                                                "status = 'ok' AND run_id IN (SELECT run_id FROM runs)"));
  while (sqlite3_step(q.get()) == SQLITE_ROW) keys.insert(reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0)));
  return keys;
}

absl::Status TagShard(const std::string& shard, const std::string& sweep_id, const SweepPoint& point, double wall_s,
                      const std::string& finished_at) {
  return sqlite::WriteWithRetry(shard, 0, [&](sqlite3* db) -> absl::Status {
    // A shard lives for seconds and is rewritten from scratch if lost: no need to wait for the disk.
    GF_RETURN_IF_ERROR(sqlite::Exec(db, "PRAGMA synchronous = OFF"));
    GF_RETURN_IF_ERROR(sqlite::Exec(db, "BEGIN IMMEDIATE"));
    GF_RETURN_IF_ERROR(sqlite::PrepareSchema(db, shard, {}));
    GF_RETURN_IF_ERROR(InsertPoint(db, sweep_id, point, "ok", "", wall_s, finished_at, "(SELECT MAX(run_id) FROM runs)"));
    return sqlite::Exec(db, "COMMIT");
  });
}

absl::Status ClearFailures(const std::string& db_path, const std::string& sweep_id, const std::string& key) {
  return sqlite::WriteWithRetry(db_path, kWaitS, [&](sqlite3* db) { return DeleteFailures(db, sweep_id, key); });
}

absl::Status RecordFailure(const std::string& db_path, const std::string& sweep_id, const SweepPoint& point,
                           const std::string& error, double wall_s, const std::string& finished_at) {
  return sqlite::WriteWithRetry(db_path, kWaitS, [&](sqlite3* db) -> absl::Status {
    GF_RETURN_IF_ERROR(sqlite::Exec(db, "BEGIN IMMEDIATE"));
    GF_RETURN_IF_ERROR(DeleteFailures(db, sweep_id, point.key));
    GF_RETURN_IF_ERROR(InsertPoint(db, sweep_id, point, "failed", error, wall_s, finished_at, "NULL"));
    return sqlite::Exec(db, "COMMIT");
  });
}

}  // namespace gpufleet
