// Run summary computation (see summary.h).
#include "sim/metrics/summary.h"

#include <algorithm>
#include <deque>

#include "models/power_model.h"
#include "sim/engine/power_monitor.h"
#include "sim/metrics/percentile.h"

namespace gpufleet {
namespace {

// Reorders `v`; `*at_p` gets the percentile `p` too (the SLO's).
LatencyStats StatsOf(std::deque<float>& v, double p, double* at_p) {
  LatencyStats s;
  s.samples = v.size();
  if (v.empty()) return s;
  double sum = 0;
  for (float x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  const std::vector<double> ps = PercentilesInPlace(v, {50, 90, 95, 99, 100, p});
  s.p50 = ps[0];
  s.p90 = ps[1];
  s.p95 = ps[2];
  s.p99 = ps[3];
  s.max = ps[4];
  *at_p = ps[5];
  return s;
}

}  // namespace

RunSummary Summarize(const Scenario& scenario, const Catalog& catalog, RunResult& run) {
  RunSummary s;
  s.scenario = scenario.name;
  s.seed = scenario.seed;
  s.model = scenario.model->name;
  s.perf_model = run.perf_model_label;
  s.power_model = run.power_model_label;
  s.partial = run.partial;
  s.stop_reason = run.stop_reason;
  s.requests_arrived = run.arrived;
  s.requests_rejected = run.rejected;
  s.rejected_by_reason = run.rejected_by_reason;
  s.requests_truncated = run.truncated;
  s.duration_s = run.end_s;

  const RequestLog& log = run.log;
  s.requests_completed = log.completed();
  s.prompt_tokens = log.prompt_tokens();
  s.output_tokens = log.output_tokens();
  s.preemptions = log.preemptions();
  for (const ReplicaResult& r : run.replicas) {
    s.swaps += r.stats.swaps;
    s.prefix.lookups += r.stats.prefix.lookups;
    s.prefix.hits += r.stats.prefix.hits;
    s.prefix.hit_tokens += r.stats.prefix.hit_tokens;
    s.prefix.evictions += r.stats.prefix.evictions;
  }
  if (run.migrates) {
    s.migration.enabled = true;
    s.migration.moves = run.migrations.transfers;
    s.migration.bytes = run.migrations.bytes;
    double unused = 0;
    s.migration.stall = StatsOf(run.migrations.transfer_s, 50, &unused);
  }
  const int64_t met = log.slo_met();
  s.requests_unfinished = s.requests_arrived - s.requests_completed - s.requests_rejected;

  LatencyColumns& columns = run.log.latencies();
  auto latency = [&](const char* name, const Slo* slo, std::deque<float>& values) {
    double observed = 0;
    LatencyStats stats = StatsOf(values, slo != nullptr ? slo->percentile : 50, &observed);
    if (slo != nullptr && slo->enabled) {
      if (values.empty()) {
        s.slos.push_back({name, slo->target_s, slo->percentile, false, 0, false});
      } else {
        s.slos.push_back({name, slo->target_s, slo->percentile, true, observed, observed <= slo->target_s});
      }
    }
    return stats;
  };
  s.ttft = latency("ttft", &scenario.slos.ttft, columns.ttft_s);

  auto& gaps = run.log.gaps();
  const std::vector<double> tbt_ps = WeightedPercentiles(gaps, {50, 90, 95, 99});
  double gap_sum = 0;
  uint64_t gap_n = 0;
  for (const auto& g : gaps) {
    gap_sum += g.value * static_cast<double>(g.count);
    gap_n += g.count;
    s.tbt.max = std::max(s.tbt.max, static_cast<double>(g.value));
  }
  s.tbt.samples = gap_n;
  s.tbt.mean = gap_n > 0 ? gap_sum / static_cast<double>(gap_n) : 0;
  s.tbt.p50 = tbt_ps[0];
  s.tbt.p90 = tbt_ps[1];
  s.tbt.p95 = tbt_ps[2];
  s.tbt.p99 = tbt_ps[3];
  if (scenario.slos.tbt.enabled) {
    const Slo& slo = scenario.slos.tbt;
    if (gap_n == 0) {
      s.slos.push_back({"tbt", slo.target_s, slo.percentile, false, 0, false});
    } else {
      const double observed = WeightedPercentile(gaps, slo.percentile);
      s.slos.push_back({"tbt", slo.target_s, slo.percentile, true, observed, observed <= slo.target_s});
    }
  }

  s.e2e = latency("e2e", &scenario.slos.e2e, columns.e2e_s);
  s.tpot = latency("tpot", nullptr, columns.tpot_s);
  s.queue = latency("queue", nullptr, columns.queue_s);

  const double duration = s.duration_s > 0 ? s.duration_s : 1.0;
  s.throughput_rps = static_cast<double>(s.requests_completed) / duration;
  s.throughput_tok_s = static_cast<double>(s.output_tokens) / duration;
  if (s.requests_arrived > 0) s.slo_attainment = static_cast<double>(met) / static_cast<double>(s.requests_arrived);
  s.goodput_rps = static_cast<double>(met) / duration;

  double util_sum = 0, deployed_util_sum = 0, joules = 0, compute_sum = 0, memory_sum = 0, deployed_joules = 0;
  double server_joules = 0;
  // Node by node (the GPUs are in cluster order): a GPU draws idle power whenever no iteration runs, and a
  // server's non-GPU parts follow its GPUs' load (ServerPowerW). A server without a replica is off when the
  // scenario says so.
  for (size_t i = 0; i < run.gpus.size();) {
    const NodeSpec* node = catalog.FindNode(run.gpus[i].node);
    const size_t n = std::min(run.gpus.size() - i, static_cast<size_t>(node != nullptr ? std::max(1, node->gpus_per_node) : 1));
    bool has_replica = false;
    for (size_t k = 0; k < n; ++k) has_replica |= run.gpus[i + k].replica >= 0;
    const bool off = !has_replica && scenario.power.idle_servers_off;
    double node_gpu_joules = 0;
    for (size_t k = 0; k < n; ++k) {
      const GpuResult& g = run.gpus[i + k];
      const GpuSpec& spec = *catalog.FindGpu(g.gpu);
      const double util = s.duration_s > 0 ? g.busy_s / s.duration_s : 0;
      util_sum += util;
      ++s.total_gpus;
      if (g.replica >= 0) {
        ++s.deployed_gpus;
        deployed_util_sum += util;
        if (s.duration_s > 0) {
          compute_sum += g.flops / (spec.fp16_tflops * 1e12 * s.duration_s);
          memory_sum += g.hbm_bytes / (spec.hbm_gbps * 1e9 * s.duration_s);
        }
      }
      const double gpu_joules = off ? 0 : g.busy_energy_j + spec.idle_w * std::max(0.0, s.duration_s - g.busy_s);
      node_gpu_joules += gpu_joules;
      if (g.replica >= 0) deployed_joules += gpu_joules;
    }
    joules += node_gpu_joules;
    if (node != nullptr && !off && s.duration_s > 0) {
      server_joules += ServerPowerW(*node, *catalog.FindGpu(run.gpus[i].gpu), node_gpu_joules / s.duration_s,
                                    static_cast<int>(n)) *
                       s.duration_s;
    } else {
      server_joules += node_gpu_joules;
    }
    i += n;
  }
  s.gpu_util_mean = s.total_gpus > 0 ? util_sum / s.total_gpus : 0;
  s.gpu_util_deployed_mean = s.deployed_gpus > 0 ? deployed_util_sum / s.deployed_gpus : 0;
  s.compute_util_mean = s.deployed_gpus > 0 ? compute_sum / s.deployed_gpus : 0;
  s.memory_bw_util_mean = s.deployed_gpus > 0 ? memory_sum / s.deployed_gpus : 0;
  if (s.deployed_gpus > 0 && s.duration_s > 0) s.deployed_gpu_power_w = deployed_joules / s.duration_s / s.deployed_gpus;
  for (const ReplicaResult& r : run.replicas) {
    s.capped_gpu_s += r.stats.capped_s * r.tensor_parallel;
    s.peak_gpu_power_w = std::max(s.peak_gpu_power_w, r.stats.peak_power_w);
  }
  s.energy_kwh = joules / 3.6e6;
  s.mean_power_w = s.duration_s > 0 ? joules / s.duration_s : 0;
  s.server_energy_kwh = server_joules / 3.6e6;
  s.server_mean_power_w = s.duration_s > 0 ? server_joules / s.duration_s : 0;
  // The facility: the servers times PUE, and what the power readings saw.
  const PowerSpec& ps = scenario.power;
  s.pue = ps.pue;
  s.facility_energy_kwh = s.server_energy_kwh * ps.pue;
  s.facility_mean_power_w = s.server_mean_power_w * ps.pue;
  s.it_power_peak_w = run.power.it_peak_w;
  s.it_power_p99_w = run.power.it_p99_w;
  s.power_budget_w = ps.budget_w;
  s.time_over_budget_s = run.power.time_over_budget_s;
  s.breaker_trips = run.power.breaker_trips;
  s.power_controller = ps.controller.type.empty() ? "none" : ps.controller.type;
  s.cap_events = run.power.cap_events;
  s.power_domains = run.power.domains;
  s.release_events = run.power.release_events;
  if (ps.carbon_g_per_kwh > 0) s.carbon_kg = s.facility_energy_kwh * ps.carbon_g_per_kwh / 1000.0;

  if (run.disaggregated) {
    TransferSummary& kv = s.kv;
    kv.enabled = true;
    kv.transfers = run.transfers.transfers;
    kv.bytes = run.transfers.bytes;
    double unused = 0;
    kv.transfer = StatsOf(run.transfers.transfer_s, 50, &unused);
    const RequestLog::TransferShare& share = log.transfer_share();
    if (share.ttft_s > 0) kv.share_of_ttft = share.transfer_s / share.ttft_s;
    if (share.e2e_s > 0) kv.share_of_e2e = share.transfer_s / share.e2e_s;
    kv.decode_kv_wait_s = run.transfers.decode_kv_wait_s;
    if (run.transfers.decode_replica_s > 0) kv.decode_kv_wait_share = kv.decode_kv_wait_s / run.transfers.decode_replica_s;
    kv.landed_without_room = run.transfers.landed_without_room;
  }

  s.hardware = PriceFleet(scenario.cluster, catalog, scenario.prices);
  s.cluster_auto = scenario.cluster_auto;
  // Energy is bought for the whole facility: the servers and the cooling and conversion PUE adds.
  s.energy_usd_per_hour = s.facility_mean_power_w / 1000.0 * scenario.prices.energy_usd_per_kwh;
  s.cost_usd_per_hour = s.hardware.usd_per_hour + s.energy_usd_per_hour;
  s.cost_usd_total = s.cost_usd_per_hour * s.duration_s / 3600.0;
  if (s.output_tokens > 0) s.cost_usd_per_mtok = s.cost_usd_total / static_cast<double>(s.output_tokens) * 1e6;
  return s;
}

}  // namespace gpufleet
