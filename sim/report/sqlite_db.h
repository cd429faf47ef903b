// The gpufleet run database below its two users: the run writer (sqlite_report.h) and the merger
// (sqlite_merge.h). Owns the schema (docs/sqlite-schema.md), its version and upgrades, the checks that tell
// a gpufleet database from any other file, and thin RAII helpers over SQLite's C API.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gpufleet {

// Version 2 adds runs.run_uid (a run's identity across databases, for `gpufleet merge`) and
// runs.stop_reason (why a partial run stopped; '' for a whole run).
inline constexpr int kSqliteSchemaVersion = 2;

namespace sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Opens `path`; `create` allows a new file. Errors name the path (InvalidArgument: bad input).
absl::StatusOr<Db> Open(const std::string& path, bool create, bool read_only = false);

// An error from SQLite's last call on `db`, mapped to a status code a caller can act on: a locked database
// is Unavailable (retry later), a full disk or I/O failure ResourceExhausted / DataLoss, a file that is no
// database InvalidArgument, anything else Internal. The message starts with `what`.
absl::Status Error(sqlite3* db, const std::string& what);

absl::Status Exec(sqlite3* db, const std::string& sql);
absl::StatusOr<Stmt> Prepare(sqlite3* db, const std::string& sql);
std::vector<std::string> Columns(sqlite3* db, const std::string& schema, const std::string& table);

// Binds values in order and steps once; resets for reuse.
class Row {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  Row& Int(int64_t v) { sqlite3_bind_int64(s_, ++i_, v); return *this; }
  Row& Real(double v) { sqlite3_bind_double(s_, ++i_, v); return *this; }
  Row& Text(const std::string& v) { sqlite3_bind_text(s_, ++i_, v.c_str(), -1, SQLITE_TRANSIENT); return *this; }
  Row& Null() { sqlite3_bind_null(s_, ++i_); return *this; }
  absl::Status Done(sqlite3* db);

 private:
  sqlite3_stmt* s_;
  int i_ = 0;
};

// What `schema` ("main", or an attached name) of an open database holds.
enum class DbKind { kEmpty, kGpufleet, kForeign };
struct DbInfo {
  DbKind kind = DbKind::kEmpty;
  int version = 0;                  // kGpufleet: schema_info's schema_version
  std::vector<std::string> tables;  // kForeign: its tables, for the message
};
absl::StatusOr<DbInfo> Inspect(sqlite3* db, const std::string& schema);

// Opens an existing gpufleet run database read-only (10 s busy timeout, for a writer in progress), with
// what it holds; InvalidArgument naming `path` when it is missing or not a gpufleet database.
absl::StatusOr<Db> OpenRunDatabaseForReading(const std::string& path, DbInfo* info);

// InvalidArgument naming `path` unless `info` is a database this gpufleet can write to (empty, or a
// gpufleet database of version 1 — upgraded on write — or 2).
absl::Status CheckWritable(const DbInfo& info, const std::string& path);

// Inside a write transaction: creates the tables if absent, upgrades a version-1 database, and adds the
// run_summary columns in `summary_columns` that the database lacks (NULL for older runs).
absl::Status PrepareSchema(sqlite3* db, const std::string& path, const std::vector<std::string>& summary_columns);

// Opens `path` (created if absent) and runs the transaction `txn` on it; a failed attempt is rolled back.
// While the database is locked by other writers the whole transaction is retried, with backoff, for up
// to `wait_s` (then Unavailable: "still locked after N s"). Errors are prefixed with the path.
absl::Status WriteWithRetry(const std::string& path, double wait_s, const std::function<absl::Status(sqlite3*)>& txn);

// The identity of a version-1 run that has none, derived from what it stored (stable across copies).
std::string LegacyRunUidSql(const std::string& table_alias);

}  // namespace sqlite

// Checks, before a run, that `path` can take it: a gpufleet run database this version can write, an empty
// file, or a new file in a writable folder (creates nothing). Bad input is InvalidArgument naming the path.
// A database locked right now by another writer passes: the append waits for it.
absl::Status CheckRunDatabase(const std::string& path);

}  // namespace gpufleet
