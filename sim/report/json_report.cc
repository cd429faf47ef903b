// JSON rendering of a run summary (see json_report.h).
#include "sim/report/json_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

// Statistics of an empty population are undefined: their keys are left out.
void AddLatency(nlohmann::ordered_json& j, const std::string& name, const LatencyStats& s) {
  if (s.samples == 0) return;
  j[name + "_mean_s"] = s.mean;
  j[name + "_p50_s"] = s.p50;
  j[name + "_p90_s"] = s.p90;
  j[name + "_p95_s"] = s.p95;
  j[name + "_p99_s"] = s.p99;
  j[name + "_max_s"] = s.max;
}

// nlohmann writes inf and NaN as null, which a reader would take for a value: refuse them instead.
absl::Status CheckFinite(const nlohmann::ordered_json& j, const std::string& path) {
  if (j.is_number_float() && !std::isfinite(j.get<double>())) {
    return absl::InternalError(absl::StrCat("summary JSON: ", path, " is ", j.get<double>(),
                                            ", which JSON cannot hold; refusing to write it"));
  }
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (auto st = CheckFinite(it.value(), path.empty() ? it.key() : absl::StrCat(path, ".", it.key())); !st.ok()) {
        return st;
      }
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      if (auto st = CheckFinite(j[i], absl::StrCat(path, "[", i, "]")); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<nlohmann::ordered_json> SummaryJson(const RunSummary& s, const RunResult& run) {
  nlohmann::ordered_json j;
  j["scenario"] = s.scenario;
  j["seed"] = s.seed;
  j["model"] = s.model;
  j["perf_model"] = s.perf_model;
  j["power_model"] = s.power_model;
  j["partial"] = s.partial;
  j["stop_reason"] = s.stop_reason;
  j["requests_arrived"] = s.requests_arrived;
  j["requests_completed"] = s.requests_completed;
  j["requests_rejected"] = s.requests_rejected;
  if (s.migration.enabled) {
    j["migrations"] = s.migration.moves;
    j["migration_bytes"] = s.migration.bytes;
    j["migration_stall_mean_s"] = s.migration.stall.mean;
    j["migration_stall_p99_s"] = s.migration.stall.p99;
  }
  if (s.prefix.lookups > 0) {
    j["prefix_cache_lookups"] = s.prefix.lookups;
    j["prefix_cache_hits"] = s.prefix.hits;
    j["prefix_cache_hit_rate"] = static_cast<double>(s.prefix.hits) / static_cast<double>(s.prefix.lookups);
    j["prefix_cache_saved_tokens"] = s.prefix.hit_tokens;
    j["prefix_cache_evictions"] = s.prefix.evictions;
  }
  if (!s.rejected_by_reason.empty()) {
    nlohmann::ordered_json reasons = nlohmann::ordered_json::object();
    for (const auto& [reason, n] : s.rejected_by_reason) reasons[reason] = n;
    j["rejected_by_reason"] = std::move(reasons);
  }
  j["requests_unfinished"] = s.requests_unfinished;
  j["requests_truncated"] = s.requests_truncated;
  j["prompt_tokens"] = s.prompt_tokens;
  j["output_tokens"] = s.output_tokens;
  j["preemptions"] = s.preemptions;
  if (s.swaps > 0) j["swaps"] = s.swaps;  // only schedulers that swap (priority) add it
  j["duration_s"] = s.duration_s;
  AddLatency(j, "ttft", s.ttft);
  AddLatency(j, "tbt", s.tbt);
  AddLatency(j, "tpot", s.tpot);
  AddLatency(j, "e2e", s.e2e);
  AddLatency(j, "queue", s.queue);
  j["throughput_rps"] = s.throughput_rps;
  j["throughput_tok_s"] = s.throughput_tok_s;
  if (s.slo_attainment) j["slo_attainment"] = *s.slo_attainment;
  j["goodput_rps"] = s.goodput_rps;
  nlohmann::ordered_json slos = nlohmann::ordered_json::array();
  for (const SloOutcome& o : s.slos) {
    nlohmann::ordered_json slo = {{"metric", o.metric}, {"target_s", o.target_s}, {"percentile", o.percentile},
                                  {"evaluated", o.evaluated}};
    if (o.evaluated) {
      slo["observed_s"] = o.observed_s;
      slo["met"] = o.met;
    }
    slos.push_back(std::move(slo));
  }
  j["slos"] = slos;
  j["gpus_total"] = s.total_gpus;
  j["gpus_deployed"] = s.deployed_gpus;
  j["gpu_util_mean"] = s.gpu_util_mean;
  j["gpu_util_deployed_mean"] = s.gpu_util_deployed_mean;
  j["compute_util_mean"] = s.compute_util_mean;
  j["memory_bw_util_mean"] = s.memory_bw_util_mean;
  j["energy_kwh"] = s.energy_kwh;
  j["deployed_gpu_power_w"] = s.deployed_gpu_power_w;
  j["server_energy_kwh"] = s.server_energy_kwh;
  j["server_mean_power_w"] = s.server_mean_power_w;
  j["pue"] = s.pue;
  j["facility_energy_kwh"] = s.facility_energy_kwh;
  j["facility_mean_power_w"] = s.facility_mean_power_w;
  j["it_power_peak_w"] = s.it_power_peak_w;
  j["it_power_p99_w"] = s.it_power_p99_w;
  if (s.power_budget_w > 0) {
    j["power_budget_w"] = s.power_budget_w;
    j["time_over_budget_s"] = s.time_over_budget_s;
    j["breaker_trips"] = s.breaker_trips;
  }
  if (s.power_controller != "none") {
    j["power_controller"] = s.power_controller;
    j["cap_events"] = s.cap_events;
    j["release_events"] = s.release_events;
  }
  if (!s.power_domains.empty()) {
    auto domains = nlohmann::ordered_json::array();
    for (const DomainPowerStats& d : s.power_domains) {
      nlohmann::ordered_json o{{"name", d.name},          {"level", d.level},   {"first_server", d.first_server},
                               {"servers", d.servers},    {"peak_w", d.peak_w}, {"p99_w", d.p99_w},
                               {"energy_kwh", d.energy_j / 3.6e6}};
      if (d.budget_w > 0) {
        o["budget_w"] = d.budget_w;
        o["time_over_budget_s"] = d.time_over_budget_s;
        o["breaker_trips"] = d.breaker_trips;
      }
      domains.push_back(std::move(o));
    }
    j["power_domains"] = std::move(domains);
  }
  if (s.carbon_kg) j["carbon_kg"] = *s.carbon_kg;
  if (s.kv.enabled) {
    j["kv_transfers"] = s.kv.transfers;
    j["kv_transfer_bytes"] = s.kv.bytes;
    AddLatency(j, "kv_transfer", s.kv.transfer);
    if (s.kv.share_of_ttft) j["kv_transfer_share_of_ttft"] = *s.kv.share_of_ttft;
    if (s.kv.share_of_e2e) j["kv_transfer_share_of_e2e"] = *s.kv.share_of_e2e;
    j["decode_kv_wait_s"] = s.kv.decode_kv_wait_s;
    j["decode_kv_wait_share"] = s.kv.decode_kv_wait_share;
    j["kv_landed_without_room"] = s.kv.landed_without_room;
    auto links = nlohmann::ordered_json::array();
    for (const LinkStats& l : run.links) {
      links.push_back({{"link", l.name}, {"bandwidth_gbps", l.bandwidth_bps / 1e9}, {"bytes", l.bytes},
                       {"mean_util", l.mean_util}, {"peak_util", l.peak_util}});
    }
    j["links"] = std::move(links);
  }
  j["peak_gpu_power_w"] = s.peak_gpu_power_w;
  j["capped_gpu_s"] = s.capped_gpu_s;
  j["mean_power_w"] = s.mean_power_w;
  j["cost_usd_per_hour"] = s.cost_usd_per_hour;
  j["hardware_usd_per_hour"] = s.hardware.usd_per_hour;
  j["energy_usd_per_hour"] = s.energy_usd_per_hour;
  j["cost_usd_total"] = s.cost_usd_total;
  if (s.cost_usd_per_mtok) j["cost_usd_per_mtok"] = *s.cost_usd_per_mtok;
  nlohmann::ordered_json cost = nlohmann::ordered_json::array();
  for (const CostLine& l : s.hardware.lines) {
    cost.push_back({{"node", l.node}, {"gpu", l.gpu}, {"count", l.count}, {"gpus", l.gpus},
                    {"usd_per_node_hour", l.usd_per_node_hour}, {"usd_per_hour", l.usd_per_hour}, {"basis", l.basis}});
  }
  j["cluster_auto"] = s.cluster_auto;
  j["cost_breakdown"] = cost;
  nlohmann::ordered_json replicas = nlohmann::ordered_json::array();
  for (const ReplicaResult& r : run.replicas) {
    replicas.push_back({{"replica", r.replica},
                        {"group", r.group_name},
                        {"gpu", r.gpu},
                        {"tensor_parallel", r.tensor_parallel},
                        {"requests", r.stats.requests},
                        {"output_tokens", r.stats.output_tokens},
                        {"iterations", r.stats.iterations},
                        {"util", s.duration_s > 0 ? r.stats.busy_s / s.duration_s : 0.0},
                        {"preemptions", r.stats.preemptions},
                        {"kv_blocks", r.stats.kv_blocks_total},
                        {"kv_blocks_peak", r.stats.kv_blocks_peak},
                        {"max_running", r.stats.max_running}});
    if (s.swaps > 0) {
      replicas.back()["swaps"] = r.stats.swaps;
      replicas.back()["swap_s"] = r.stats.swap_s;
    }
    if (s.kv.enabled) {
      replicas.back()["handed_off"] = r.stats.handed_off;
      replicas.back()["adopted"] = r.stats.adopted;
      replicas.back()["kv_wait_s"] = r.stats.kv_wait_s;
    }
  }
  j["replicas"] = replicas;
  if (auto st = CheckFinite(j, ""); !st.ok()) return st;
  return j;
}

}  // namespace gpufleet
