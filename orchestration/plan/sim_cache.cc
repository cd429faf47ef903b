// The planner's simulation cache (see sim_cache.h).
#include "orchestration/plan/sim_cache.h"

#include "absl/strings/str_cat.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/status_macros.h"
#include "sim/util/utc_time.h"

namespace gpufleet {

absl::Status SimCache::Attach(const std::string& path, double wait_s) {
  path_ = path;
  wait_s_ = wait_s;
  // A write transaction also creates the tables of a new file (and refuses a file that is not a gpufleet
  // database), so that reading finds them.
  return sqlite::WriteWithRetry(path, wait_s, [&](sqlite3* db) -> absl::Status {
    GF_RETURN_IF_ERROR(sqlite::PrepareSchema(db, path, {}));
    GF_ASSIGN_OR_RETURN(sqlite::Stmt q, sqlite::Prepare(db, "SELECT cache_key, rate_multiplier, seed, ok, summary_json, "
                                                            "error FROM plan_cache WHERE gpufleet_version = ?"));
    sqlite3_bind_text(q.get(), 1, GPUFLEET_VERSION, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      auto text = [&](int c) {
        const unsigned char* t = sqlite3_column_text(q.get(), c);
        return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
      };
      CachedSim s{sqlite3_column_int(q.get(), 3) != 0, text(4), text(5)};
      entries_[{text(0), sqlite3_column_int64(q.get(), 2), sqlite3_column_double(q.get(), 1)}] = std::move(s);
    }
    if (rc != SQLITE_DONE) return sqlite::Error(db, "reading plan_cache");
    return absl::OkStatus();
  });
}

const CachedSim* SimCache::Find(const std::string& key, double rate_multiplier, int64_t seed) const {
  auto it = entries_.find({key, seed, rate_multiplier});
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::pair<double, const CachedSim*>> SimCache::Known(const std::string& key, int64_t seed) const {
  std::vector<std::pair<double, const CachedSim*>> out;
  for (auto it = entries_.lower_bound({key, seed, -1.0}); it != entries_.end(); ++it) {
    const auto& [k, s, m] = it->first;
    if (k != key || s != seed) break;
    out.emplace_back(m, &it->second);
  }
  return out;
}

absl::Status SimCache::Put(const std::vector<Entry>& entries) {
  for (const Entry& e : entries) entries_[{e.key, e.seed, e.rate_multiplier}] = e.sim;
  if (path_.empty() || entries.empty()) return absl::OkStatus();
  const std::string created = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  return sqlite::WriteWithRetry(path_, wait_s_, [&](sqlite3* db) -> absl::Status {
    GF_ASSIGN_OR_RETURN(sqlite::Stmt ins, sqlite::Prepare(db, "INSERT OR REPLACE INTO plan_cache VALUES "
                                                              "(?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const Entry& e : entries) {
      GF_RETURN_IF_ERROR(sqlite::Row(ins.get())
                             .Text(e.key).Real(e.rate_multiplier).Int(e.seed).Int(e.sim.ok).Text(e.sim.out)
                             .Text(e.sim.error_line).Text(GPUFLEET_VERSION).Text(created)
                             .Done(db));
    }
    return absl::OkStatus();
  });
}

}  // namespace gpufleet
