// See sqlite_merge.h. Tables are copied by column name, so a shard written by an older gpufleet (fewer
// summary metrics, schema version 1 without run_uid) merges into a newer database.
#include "sim/report/sqlite_merge.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

using sqlite::Stmt;

std::string Quoted(const std::vector<std::string>& cols, const std::string& prefix = "") {
  std::vector<std::string> q;
  for (const auto& c : cols) q.push_back(absl::StrCat(prefix, "\"", c, "\""));
  return absl::StrJoin(q, ", ");
}

std::vector<std::string> Without(std::vector<std::string> cols, const std::string& drop) {
  cols.erase(std::remove(cols.begin(), cols.end(), drop), cols.end());
  return cols;
}

// The shard's tables that hang off runs (every one with a run_id column), in a fixed order.
std::vector<std::string> RunTables(sqlite3* db, const std::vector<std::string>& tables) {
  std::vector<std::string> out;
  for (const std::string& t : tables) {
    if (t == "runs" || t == "schema_info" || t.rfind("sqlite_", 0) == 0) continue;
    const auto cols = sqlite::Columns(db, "shard", t);
    if (std::find(cols.begin(), cols.end(), "run_id") != cols.end()) out.push_back(t);
  }
  return out;
}

absl::StatusOr<MergeCounts> CopyRuns(sqlite3* db, const std::string& target, const sqlite::DbInfo& shard_info) {
  MergeCounts counts;
  const auto summary_cols = Without(sqlite::Columns(db, "shard", "run_summary"), "run_id");
  GF_RETURN_IF_ERROR(sqlite::Exec(db, "BEGIN IMMEDIATE"));
  GF_RETURN_IF_ERROR(sqlite::PrepareSchema(db, target, summary_cols));

  const auto run_cols = Without(Without(sqlite::Columns(db, "shard", "runs"), "run_id"), "run_uid");
  const bool has_uid = shard_info.version >= 2;
  const std::string uid = has_uid ? absl::StrCat("COALESCE(r.run_uid, ", sqlite::LegacyRunUidSql("r"), ")")
                                  : sqlite::LegacyRunUidSql("r");
  GF_ASSIGN_OR_RETURN(Stmt runs, sqlite::Prepare(db, absl::StrCat("SELECT r.run_id, ", uid,
                                                                  " FROM shard.runs r ORDER BY r.run_id")));
  GF_ASSIGN_OR_RETURN(Stmt exists, sqlite::Prepare(db, "SELECT 1 FROM main.runs WHERE run_uid = ?"));
  GF_ASSIGN_OR_RETURN(Stmt insert_run,
                      sqlite::Prepare(db, absl::StrCat("INSERT INTO main.runs (", Quoted(run_cols), ", run_uid) SELECT ",
                                                       Quoted(run_cols, "r."), ", ? FROM shard.runs r WHERE r.run_id = ?")));
  std::vector<std::pair<std::string, Stmt>> children;
  for (const std::string& t : RunTables(db, shard_info.tables)) {
    const auto cols = Without(sqlite::Columns(db, "shard", t), "run_id");
    const auto have = sqlite::Columns(db, "main", t);
    for (const auto& c : cols) {
      if (std::find(have.begin(), have.end(), c) == have.end()) {
        return absl::InvalidArgumentError(absl::StrCat("table ", t, " has a column ", c, " this gpufleet does not know; "
                                                       "expected a database written by this or an older gpufleet"));
      }
    }
    GF_ASSIGN_OR_RETURN(Stmt copy, sqlite::Prepare(db, absl::StrCat("INSERT INTO main.\"", t, "\" (run_id, ", Quoted(cols),
                                                                    ") SELECT ?, ", Quoted(cols), " FROM shard.\"", t,
                                                                    "\" WHERE run_id = ?")));
    children.emplace_back(t, std::move(copy));
  }

  // Tables keyed by their own identity rather than a run (sweeps, plans and their rows) are
  // copied row by row where the target lacks them.
  for (const std::string& t : {std::string("sweeps"), std::string("plans"), std::string("plan_candidates"),
                                std::string("plan_fleets")}) {
    if (std::find(shard_info.tables.begin(), shard_info.tables.end(), t) == shard_info.tables.end()) continue;
    const std::string cols = Quoted(sqlite::Columns(db, "shard", t));
    GF_RETURN_IF_ERROR(sqlite::Exec(db, absl::StrCat("INSERT OR IGNORE INTO main.\"", t, "\" (", cols, ") SELECT ",
                                                     cols, " FROM shard.\"", t, "\"")));
  }

  int rc;
  while ((rc = sqlite3_step(runs.get())) == SQLITE_ROW) {
    const int64_t old_id = sqlite3_column_int64(runs.get(), 0);
    const std::string run_uid = reinterpret_cast<const char*>(sqlite3_column_text(runs.get(), 1));
    sqlite3_bind_text(exists.get(), 1, run_uid.c_str(), -1, SQLITE_TRANSIENT);
    const bool present = sqlite3_step(exists.get()) == SQLITE_ROW;
    sqlite3_reset(exists.get());
    if (present) {
      ++counts.present;
      continue;
    }
    GF_RETURN_IF_ERROR(sqlite::Row(insert_run.get()).Text(run_uid).Int(old_id).Done(db));
    const int64_t new_id = sqlite3_last_insert_rowid(db);
    for (auto& [t, copy] : children) GF_RETURN_IF_ERROR(sqlite::Row(copy.get()).Int(new_id).Int(old_id).Done(db));
    ++counts.added;
  }
  if (rc != SQLITE_DONE) return sqlite::Error(db, "reading the shard's runs");
  GF_RETURN_IF_ERROR(sqlite::Exec(db, "COMMIT"));
  return counts;
}

}  // namespace

absl::StatusOr<MergeCounts> MergeRunDatabase(const std::string& target, const std::string& shard, double wait_s) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(shard, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(shard, ": no such database file"));
  }
  if (std::filesystem::exists(target, ec) && std::filesystem::equivalent(target, shard, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(shard, ": is the target database itself"));
  }
  sqlite::DbInfo shard_info;
  {
    GF_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Open(shard, /*create=*/false, /*read_only=*/true));
    sqlite3_busy_timeout(db.get(), static_cast<int>(wait_s * 1000));
    auto info = sqlite::Inspect(db.get(), "main");
    if (!info.ok() && info.status().code() != absl::StatusCode::kUnavailable) {
      return absl::InvalidArgumentError(absl::StrCat(shard, ": not an SQLite database; expected a gpufleet run database"));
    }
    GF_RETURN_IF_ERROR(info.status());
    if (info->kind != sqlite::DbKind::kGpufleet) {
      return absl::InvalidArgumentError(absl::StrCat(shard, ": not a gpufleet run database",
                                                     info->kind == sqlite::DbKind::kEmpty ? " (it is empty)" : ""));
    }
    GF_RETURN_IF_ERROR(sqlite::CheckWritable(*info, shard));
    shard_info = *info;
  }
  GF_RETURN_IF_ERROR(CheckRunDatabase(target));
  MergeCounts counts;
  GF_RETURN_IF_ERROR(sqlite::WriteWithRetry(target, wait_s, [&](sqlite3* db) -> absl::Status {
    // ATTACH cannot run inside a transaction: attach first, detach whatever the copy's outcome.
    GF_ASSIGN_OR_RETURN(Stmt attach, sqlite::Prepare(db, "ATTACH DATABASE ? AS shard"));
    sqlite3_bind_text(attach.get(), 1, shard.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(attach.get()) != SQLITE_DONE) return sqlite::Error(db, absl::StrCat("cannot attach ", shard));
    auto copied = CopyRuns(db, target, shard_info);
    if (!copied.ok()) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      sqlite3_exec(db, "DETACH DATABASE shard", nullptr, nullptr, nullptr);
      return copied.status();
    }
    counts = *copied;
    return sqlite::Exec(db, "DETACH DATABASE shard");
  }));
  return counts;
}

}  // namespace gpufleet
