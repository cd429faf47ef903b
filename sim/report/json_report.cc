// JSON rendering of a run summary (see json_report.h).
#include "sim/report/json_report.h"

namespace gpufleet {
namespace {

void AddLatency(nlohmann::ordered_json& j, const std::string& name, const LatencyStats& s) {
  j[name + "_mean_s"] = s.mean;
  j[name + "_p50_s"] = s.p50;
  j[name + "_p90_s"] = s.p90;
  j[name + "_p95_s"] = s.p95;
  j[name + "_p99_s"] = s.p99;
  j[name + "_max_s"] = s.max;
}

}  // namespace

nlohmann::ordered_json SummaryJson(const RunSummary& s, const RunResult& run) {
  nlohmann::ordered_json j;
  j["scenario"] = s.scenario;
  j["seed"] = s.seed;
  j["model"] = s.model;
  j["perf_model"] = s.perf_model;
  j["power_model"] = s.power_model;
  j["requests_arrived"] = s.requests_arrived;
  j["requests_completed"] = s.requests_completed;
  j["requests_rejected"] = s.requests_rejected;
  j["requests_truncated"] = s.requests_truncated;
  j["prompt_tokens"] = s.prompt_tokens;
  j["output_tokens"] = s.output_tokens;
  j["preemptions"] = s.preemptions;
  j["duration_s"] = s.duration_s;
  AddLatency(j, "ttft", s.ttft);
  AddLatency(j, "tbt", s.tbt);
  AddLatency(j, "tpot", s.tpot);
  AddLatency(j, "e2e", s.e2e);
  AddLatency(j, "queue", s.queue);
  j["throughput_rps"] = s.throughput_rps;
  j["throughput_tok_s"] = s.throughput_tok_s;
  j["slo_attainment"] = s.slo_attainment;
  j["goodput_rps"] = s.goodput_rps;
  nlohmann::ordered_json slos = nlohmann::ordered_json::array();
  for (const SloOutcome& o : s.slos) {
    slos.push_back({{"metric", o.metric}, {"target_s", o.target_s}, {"percentile", o.percentile},
                    {"observed_s", o.observed_s}, {"met", o.met}});
  }
  j["slos"] = slos;
  j["gpus_total"] = s.total_gpus;
  j["gpus_deployed"] = s.deployed_gpus;
  j["gpu_util_mean"] = s.gpu_util_mean;
  j["gpu_util_deployed_mean"] = s.gpu_util_deployed_mean;
  j["energy_kwh"] = s.energy_kwh;
  j["mean_power_w"] = s.mean_power_w;
  j["cost_usd_per_hour"] = s.cost_usd_per_hour;
  j["hardware_usd_per_hour"] = s.hardware.usd_per_hour;
  j["energy_usd_per_hour"] = s.energy_usd_per_hour;
  j["cost_usd_total"] = s.cost_usd_total;
  j["cost_usd_per_mtok"] = s.cost_usd_per_mtok;
  nlohmann::ordered_json cost = nlohmann::ordered_json::array();
  for (const CostLine& l : s.hardware.lines) {
    cost.push_back({{"node", l.node}, {"gpu", l.gpu}, {"count", l.count}, {"gpus", l.gpus},
                    {"usd_per_node_hour", l.usd_per_node_hour}, {"usd_per_hour", l.usd_per_hour}, {"basis", l.basis}});
  }
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
  }
  j["replicas"] = replicas;
  return j;
}

}  // namespace gpufleet
