// Writing a plan into the run database (see plan_db.h).
#include "orchestration/plan/plan_db.h"

#include <unistd.h>

#include <cstdint>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/report/sqlite_db.h"
#include "sim/util/fnv1a.h"
#include "sim/util/status_macros.h"
#include "sim/util/utc_time.h"

namespace gpufleet {
namespace {

std::string LogText(const std::vector<std::string>& log) {
  std::string out;
  for (const std::string& l : log) absl::StrAppend(&out, out.empty() ? "" : "\n", l);
  return out;
}

}  // namespace

absl::StatusOr<std::string> WritePlanRows(const std::string& db_path, double wait_s, const PlanSpec& spec,
                                          const PlanResult& r, const std::string& result_json, double rps_per_multiplier) {
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
    for (const FrontierPoint& p : r.frontier) {
      GF_RETURN_IF_ERROR(put(spec.rates.front(), absl::StrFormat("frontier:%s<=%g", spec.frontier_slo, p.target_s), p.fleet));
    }
    GF_ASSIGN_OR_RETURN(sqlite::Stmt caps, sqlite::Prepare(db, "INSERT INTO plan_capacities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    auto cap_row = [&](size_t i, const std::string& bucket, double share, const CandidateCapacity& k) {
      return sqlite::Row(caps.get())
          .Text(plan_id).Int(static_cast<int64_t>(i)).Text(bucket).Real(share).Int(k.feasible).Real(k.max_multiplier)
          .Real(k.max_multiplier * share * rps_per_multiplier).Text(k.limit).Int(k.probes).Int(k.cached_probes)
          .Done(db);
    };
    for (size_t i = 0; i < r.candidates.size(); ++i) {
      GF_RETURN_IF_ERROR(cap_row(i, "all", 1.0, r.capacity[i]));
      for (size_t b = 0; b < r.buckets.size() && b < r.bucket_capacity[i].size(); ++b)
        GF_RETURN_IF_ERROR(cap_row(i, r.buckets[b].name, r.buckets[b].share, r.bucket_capacity[i][b]));
    }
    return absl::OkStatus();
  }));
  return plan_id;
}

}  // namespace gpufleet
