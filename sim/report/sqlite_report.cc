// SQLite run report (see sqlite_report.h).
#include "sim/report/sqlite_report.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/report/json_report.h"
#include "sim/util/fnv1a.h"
#include "sim/util/status_macros.h"
#include "sim/util/utc_time.h"

namespace gpufleet {
namespace {

using sqlite::Row;
using sqlite::Stmt;

std::string Placeholders(size_t n) {
  std::vector<std::string> q(n, "?");
  return absl::StrJoin(q, ",");
}

// Numeric and boolean (as 0/1: `partial`) scalar keys of the summary JSON become run_summary's columns.
// A key the JSON leaves out (an undefined figure) is NULL in the row.
std::vector<std::pair<std::string, double>> SummaryColumns(const nlohmann::ordered_json& j) {
  std::vector<std::pair<std::string, double>> cols;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "seed") continue;
    if (it->is_number()) cols.emplace_back(it.key(), it->get<double>());
    if (it->is_boolean()) cols.emplace_back(it.key(), it->get<bool>() ? 1.0 : 0.0);
  }
  return cols;
}

absl::StatusOr<int64_t> WriteRun(sqlite3* db, const std::string& path, const Scenario& scenario,
                                 const RunSummary& summary, const RunResult& run, const SqliteWriteOptions& options) {
  using sqlite::Prepare;
  GF_ASSIGN_OR_RETURN(const nlohmann::ordered_json json, SummaryJson(summary, run));
  const auto cols = SummaryColumns(json);
  std::vector<std::string> names;
  for (const auto& [name, v] : cols) names.push_back(name);
  GF_RETURN_IF_ERROR(sqlite::Exec(db, "BEGIN IMMEDIATE"));
  GF_RETURN_IF_ERROR(sqlite::PrepareSchema(db, path, names));

  GF_ASSIGN_OR_RETURN(Stmt run_stmt, Prepare(db, "INSERT INTO runs (created_at, gpufleet_version, scenario_path, "
                                                 "scenario_name, scenario_text, seed, model, perf_model, power_model, "
                                                 "run_uid, stop_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)"));
  GF_RETURN_IF_ERROR(Row(run_stmt.get())
                         .Text(options.created_at).Text(GPUFLEET_VERSION).Text(scenario.path).Text(scenario.name)
                         .Text(scenario.text).Int(static_cast<int64_t>(scenario.seed)).Text(summary.model)
                         .Text(summary.perf_model).Text(summary.power_model).Text(options.run_uid)
                         .Text(summary.stop_reason)
                         .Done(db));
  const int64_t run_id = sqlite3_last_insert_rowid(db);

  GF_ASSIGN_OR_RETURN(Stmt sum_stmt, Prepare(db, absl::StrCat("INSERT INTO run_summary (run_id, ", absl::StrJoin(names, ", "),
                                                              ") VALUES (", Placeholders(cols.size() + 1), ")")));
  Row sum_row(sum_stmt.get());
  sum_row.Int(run_id);
  for (const auto& [name, v] : cols) sum_row.Real(v);
  GF_RETURN_IF_ERROR(sum_row.Done(db));

  GF_ASSIGN_OR_RETURN(Stmt slo_stmt, Prepare(db, "INSERT INTO slo_results VALUES (?,?,?,?,?,?)"));
  for (const SloOutcome& o : summary.slos) {
    if (!o.evaluated) continue;  // no sample, no observed value: no row
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
  if (!summary.power_domains.empty()) {
    GF_ASSIGN_OR_RETURN(Stmt dom_stmt, Prepare(db, "INSERT INTO power_domains VALUES (?,?,?,?,?,?,?,?,?,?,?)"));
    for (const DomainPowerStats& d : summary.power_domains) {
      Row row(dom_stmt.get());
      row.Int(run_id).Text(d.name).Text(d.level).Int(d.first_server).Int(d.servers);
      if (d.budget_w > 0) {
        row.Real(d.budget_w);
      } else {
        row.Null();
      }
      row.Real(d.peak_w).Real(d.p99_w).Real(d.energy_j / 3.6e6);
      if (d.budget_w > 0) {
        row.Real(d.time_over_budget_s).Int(d.breaker_trips);
      } else {
        row.Null().Null();
      }
      GF_RETURN_IF_ERROR(row.Done(db));
    }
  }
  if (!run.links.empty()) {
    GF_ASSIGN_OR_RETURN(Stmt link_stmt, Prepare(db, "INSERT INTO links VALUES (?,?,?,?,?,?)"));
    for (const LinkStats& l : run.links) {
      GF_RETURN_IF_ERROR(Row(link_stmt.get()).Int(run_id).Text(l.name).Real(l.bandwidth_bps / 1e9).Real(l.bytes)
                             .Real(l.mean_util).Real(l.peak_util).Done(db));
    }
  }
  if (options.requests != nullptr) {
    GF_ASSIGN_OR_RETURN(Stmt req_stmt, Prepare(db, "INSERT INTO requests VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    GF_RETURN_IF_ERROR(options.requests->ForEach([&](const RequestRow& r) {
      Row row(req_stmt.get());
      row.Int(run_id).Int(static_cast<int64_t>(r.id)).Real(r.arrival_s).Int(r.prompt_tokens).Int(r.output_tokens);
      if (r.status == RequestRow::kCompleted) {
        row.Text("completed").Int(r.replica).Real(r.ttft_s).Real(r.e2e_s).Real(r.queue_s).Real(r.tpot_s)
            .Real(r.max_tbt_s).Int(r.preemptions);
      } else {
        row.Text(r.status == RequestRow::kRejected ? "rejected" : "unfinished").Null().Null().Null().Null().Null()
            .Null().Null();
      }
      row.Int(r.slo_met);
      if (r.kv_transfer_s >= 0) {
        row.Real(r.kv_transfer_s);
      } else {
        row.Null();
      }
      return row.Done(db);
    }));
  }
  if (options.power_series != nullptr && options.power_series->size() > 0) {
    GF_ASSIGN_OR_RETURN(Stmt ps_stmt, Prepare(db, "INSERT INTO power_series VALUES (?,?,?,?,?)"));
    const auto& names = run.power.series_names;
    const auto& levels = run.power.series_levels;
    GF_RETURN_IF_ERROR(options.power_series->ForEach([&](const PowerSeriesRow& x) {
      const size_t d = static_cast<size_t>(x.domain);
      if (d >= names.size()) return absl::InternalError("power series: a row names no domain");
      return Row(ps_stmt.get()).Int(run_id).Real(x.t_s).Text(names[d]).Text(levels[d]).Real(x.power_w).Done(db);
    }));
  }
  if (options.series != nullptr && options.series->size() > 0) {
    GF_ASSIGN_OR_RETURN(Stmt series_stmt, Prepare(db, "INSERT INTO series VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    GF_RETURN_IF_ERROR(options.series->ForEach([&](const SeriesSample& x) {
      return Row(series_stmt.get())
          .Int(run_id).Real(x.t_s).Int(x.replica).Int(x.waiting).Int(x.running)
          .Int(x.kv_used_blocks).Int(x.kv_total_blocks).Real(x.busy_s).Real(x.util)
          .Int(x.output_tokens).Int(x.completed).Int(x.arrivals).Real(x.power_w)
          .Done(db);
    }));
  }
  GF_RETURN_IF_ERROR(sqlite::Exec(db, "COMMIT"));
  return run_id;
}

}  // namespace

std::string NewRunUid(const Scenario& scenario) {
  // Readable and unique across machines and processes: when, which process, and what was run.
  const uint64_t what = Fnv1a(absl::StrCat(scenario.text, "\n", scenario.seed, "\n", GPUFLEET_VERSION));
  return absl::StrFormat("%s-%d-%016x", UtcNow("%Y%m%dT%H%M%SZ"), static_cast<int>(::getpid()), what);
}

absl::StatusOr<int64_t> AppendRunToSqlite(const std::string& db_path, const Scenario& scenario,
                                          const RunSummary& summary, const RunResult& run,
                                          const SqliteWriteOptions& options) {
  int64_t run_id = 0;
  GF_RETURN_IF_ERROR(sqlite::WriteWithRetry(db_path, options.wait_s, [&](sqlite3* db) -> absl::Status {
    GF_ASSIGN_OR_RETURN(run_id, WriteRun(db, db_path, scenario, summary, run, options));
    return absl::OkStatus();
  }));
  return run_id;
}

}  // namespace gpufleet
