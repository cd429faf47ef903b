// Writing a plan into the run database (see plan_db.h).
#include "orchestration/plan/plan_db.h"

#include <unistd.h>

#include <cstdint>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/status_macros.h"
#include "sim/util/utc_time.h"

namespace gpufleet {
namespace {

uint64_t Fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string LogText(const std::vector<std::string>& log) {
  std::string out;
  for (const std::string& l : log) absl::StrAppend(&out, out.empty() ? "" : "\n", l);
  return out;
}

}  // namespace

absl::StatusOr<std::string> WritePlanRows(const std::string& db_path, double wait_s, const PlanSpec& spec,
                                          const PlanResult& r, const std::string& result_json) {
  const std::string created = UtcNow("%Y-%m-%dT%H:%M:%SZ");
  const std::string plan_id =
      absl::StrFormat("plan-%016x", Fnv1a(absl::StrCat(spec.text, "\n", created, "\n", getpid(), "\n", result_json)));
  GF_RETURN_IF_ERROR(sqlite::WriteWithRetry(db_path, wait_s, [&](sqlite3* db) -> absl::Status {
    GF_RETURN_IF_ERROR(sqlite::PrepareSchema(db, db_path, {}));
    GF_ASSIGN_OR_RETURN(sqlite::Stmt plan, sqlite::Prepare(db, "INSERT INTO plans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    GF_RETURN_IF_ERROR(sqlite::Row(plan.get())
                           .Text(plan_id).Text(spec.name).Text(spec.file).Text(spec.text)
                           .Text(PlanObjectiveName(spec.objective)).Int(static_cast<int64_t>(r.candidates.size()))
                           .Int(r.simulations).Real(r.seconds).Text(created).Text(result_json)
                           .Done(db));
    GF_ASSIGN_OR_RETURN(sqlite::Stmt cand, sqlite::Prepare(db, "INSERT INTO plan_candidates VALUES "
                                                               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t i = 0; i < r.candidates.size(); ++i) {
      const PlanCandidate& c = r.candidates[i];
      const CandidateCapacity& k = r.capacity[i];
      GF_RETURN_IF_ERROR(sqlite::Row(cand.get())
                             .Text(plan_id).Int(static_cast<int64_t>(i)).Text(c.gpu).Int(c.tensor_parallel)
                             .Int(c.max_batched_tokens).Text(c.scheduler).Int(k.feasible).Real(k.max_multiplier)
                             .Int(k.saturated).Text(k.limit).Int(k.gpus_per_node).Real(k.node_usd_per_hour)
                             .Int(k.probes)
                             .Done(db));
    }
    GF_ASSIGN_OR_RETURN(sqlite::Stmt fleet, sqlite::Prepare(db, "INSERT INTO plan_fleets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    auto put = [&](double rate, const std::string& name, const VerifiedFleet& v) -> absl::Status {
      sqlite::Row row(fleet.get());
      row.Text(plan_id).Real(rate).Text(name).Int(v.found);
      if (v.found) {
        row.Real(v.cost_usd_per_hour());
      } else {
        row.Null();
      }
      if (!v.ilp_status.empty()) {
        row.Real(v.ilp_cost_usd_per_hour);
      } else {
        row.Null();
      }
      if (!v.seeds.empty()) {
        row.Int(v.seeds.front().gpus_total);
      } else {
        row.Null();
      }
      row.Text(FleetGroupsJson(v.found ? v.fleet : v.ilp, r.candidates).dump()).Text(v.found ? LogText(v.log) : v.why_not);
      return row.Done(db);
    };
    for (const RatePlan& rp : r.rates) {
      GF_RETURN_IF_ERROR(put(rp.rate, "best", rp.best));
      for (const auto& [gpu, v] : rp.single_type) GF_RETURN_IF_ERROR(put(rp.rate, "single:" + gpu, v));
    }
    return absl::OkStatus();
  }));
  return plan_id;
}

}  // namespace gpufleet
