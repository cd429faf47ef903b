// Summary table rendering (see text_report.h).
#include "sim/report/text_report.h"

#include <algorithm>

#include <fmt/format.h>

namespace gpufleet {
namespace {

std::string Ms(double s) { return fmt::format("{:10.1f}", s * 1000.0); }

std::string LatencyRow(const char* name, const LatencyStats& s) {
  if (s.samples == 0) return fmt::format("  {:<6} {:>10}\n", name, "no samples");
  return fmt::format("  {:<6} {} {} {} {} {} {}\n", name, Ms(s.mean), Ms(s.p50), Ms(s.p90), Ms(s.p95), Ms(s.p99), Ms(s.max));
}

// Disaggregated serving: the KV transfers, and the busiest links by bytes.
std::string TransferLines(const TransferSummary& kv, const RunResult& run) {
  std::string out = fmt::format("  KV transfers (prefill -> decode): {} moved {:.2f} GB", kv.transfers, kv.bytes / 1e9);
  if (kv.transfer.samples > 0) {
    out += fmt::format(" | {:.2f} ms mean, p50 {:.2f}, p99 {:.2f}, max {:.2f} ms", kv.transfer.mean * 1e3,
                       kv.transfer.p50 * 1e3, kv.transfer.p99 * 1e3, kv.transfer.max * 1e3);
  }
  out += "\n";
  if (kv.share_of_ttft) {
    out += fmt::format("  transfer share of TTFT {:.1f}%, of E2E {:.2f}% | decode replicas idle waiting for a cache "
                       "{:.1f} s ({:.2f}% of their time) | {} cache{} landed without free blocks\n",
                       *kv.share_of_ttft * 100, kv.share_of_e2e.value_or(0) * 100, kv.decode_kv_wait_s,
                       kv.decode_kv_wait_share * 100, kv.landed_without_room, kv.landed_without_room == 1 ? "" : "s");
  }
  std::vector<const LinkStats*> links;
  for (const LinkStats& l : run.links) links.push_back(&l);
  std::stable_sort(links.begin(), links.end(), [](const LinkStats* a, const LinkStats* b) { return a->bytes > b->bytes; });
  constexpr size_t kMaxLinkRows = 4;
  for (size_t i = 0; i < links.size() && i < kMaxLinkRows; ++i) {
    const LinkStats& l = *links[i];
    out += fmt::format("    link {:<34} {:>7.0f} GB/s: {:>9.2f} GB, mean {:.2f}%, peak {:.1f}%\n", l.name,
                       l.bandwidth_bps / 1e9, l.bytes / 1e9, l.mean_util * 100, l.peak_util * 100);
  }
  if (links.size() > kMaxLinkRows) out += fmt::format("    ... {} links in all (JSON, SQLite table links)\n", links.size());
  return out;
}

}  // namespace

std::string SummaryTable(const RunSummary& s, const RunResult& run) {
  std::string out;
  out += fmt::format("gpufleet run: {} (seed {})\n", s.scenario.empty() ? "(unnamed)" : s.scenario, s.seed);
  if (s.partial) {
    out += fmt::format("  *** PARTIAL RESULT: stopped at {:.1f} s of simulated time, before the run could finish: {}.\n"
                       "  *** Every figure covers only the run up to the stop; unfinished requests count as SLO misses.\n",
                       s.duration_s, s.stop_reason);
  }
  out += fmt::format("  model {} | perf model: {} | power model: {}\n", s.model, s.perf_model, s.power_model);
  out += fmt::format("  requests: {} arrived, {} completed, {} rejected, {} truncated | {} preemptions{}\n",
                     s.requests_arrived, s.requests_completed, s.requests_rejected, s.requests_truncated, s.preemptions,
                     s.swaps > 0 ? fmt::format(" ({} by swap)", s.swaps) : "");
  if (!s.rejected_by_reason.empty()) {
    std::string reasons;
    for (const auto& [reason, n] : s.rejected_by_reason) reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", n, reason);
    out += fmt::format("  rejected: {}\n", reasons);
  }
  if (s.migration.enabled) {
    out += fmt::format("  live migration: {} moves, {:.2f} GB of KV cache, stall mean {:.2f} ms, p99 {:.2f} ms\n",
                       s.migration.moves, s.migration.bytes / 1e9, s.migration.stall.mean * 1e3, s.migration.stall.p99 * 1e3);
  }
  if (s.prefix.lookups > 0) {
    out += fmt::format("  prefix cache: {} of {} lookups hit ({:.1f}%), {} prompt tokens not prefilled, {} evictions\n",
                       s.prefix.hits, s.prefix.lookups, 100.0 * static_cast<double>(s.prefix.hits) / static_cast<double>(s.prefix.lookups),
                       s.prefix.hit_tokens, s.prefix.evictions);
  }
  if (s.requests_unfinished > 0) out += fmt::format("  requests unfinished when the run stopped: {}\n", s.requests_unfinished);
  out += fmt::format("  simulated {:.1f} s | {:.2f} req/s | {:.0f} output tok/s\n\n", s.duration_s, s.throughput_rps,
                     s.throughput_tok_s);
  out += fmt::format("  {:<6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "ms", "mean", "p50", "p90", "p95", "p99", "max");
  out += LatencyRow("TTFT", s.ttft);
  out += LatencyRow("TBT", s.tbt);
  out += LatencyRow("TPOT", s.tpot);
  out += LatencyRow("E2E", s.e2e);
  out += LatencyRow("queue", s.queue);
  out += "\n";
  if (s.slos.empty()) {
    out += "  SLOs: none set\n";
  } else {
    for (const SloOutcome& o : s.slos) {
      if (!o.evaluated) {
        out += fmt::format("  SLO {:<4} p{:g} vs target {:.1f} ms: not evaluated (no samples)\n", o.metric, o.percentile,
                           o.target_s * 1000);
        continue;
      }
      out += fmt::format("  SLO {:<4} p{:g} {:.1f} ms vs target {:.1f} ms: {}\n", o.metric, o.percentile,
                         o.observed_s * 1000, o.target_s * 1000, o.met ? "met" : "MISSED");
    }
  }
  if (s.slo_attainment) {
    out += fmt::format("  SLO attainment {:.2f}% | goodput {:.2f} req/s\n\n", *s.slo_attainment * 100, s.goodput_rps);
  } else {
    out += fmt::format("  SLO attainment not evaluated (no request arrived) | goodput {:.2f} req/s\n\n", s.goodput_rps);
  }
  out += fmt::format("  GPUs: {} in cluster{}, {} deployed | busy (an iteration in flight) {:.1f}% of the time (deployed {:.1f}%)\n", s.total_gpus,
                     s.cluster_auto ? " (sized automatically, nodes below)" : "", s.deployed_gpus,
                     s.gpu_util_mean * 100, s.gpu_util_deployed_mean * 100);
  out += fmt::format("  compute {:.1f}% of peak (MFU) | memory bandwidth {:.1f}% of peak (MBU), GPUs with replicas\n",
                     s.compute_util_mean * 100, s.memory_bw_util_mean * 100);
  out += fmt::format(
      "  GPU energy {:.2f} kWh | mean power {:.0f} W ({:.0f} W per deployed GPU) | peak GPU {:.0f} W | power-capped "
      "{:.0f} GPU-s\n  servers (GPUs and the rest) {:.2f} kWh | mean power {:.0f} W, peak {:.0f} W, p99 {:.0f} W | "
      "facility (PUE {:g}) {:.2f} kWh\n",
      s.energy_kwh, s.mean_power_w, s.deployed_gpu_power_w, s.peak_gpu_power_w, s.capped_gpu_s, s.server_energy_kwh,
      s.server_mean_power_w, s.it_power_peak_w, s.it_power_p99_w, s.pue, s.facility_energy_kwh);
  if (s.power_budget_w > 0) {
    out += fmt::format("  power budget {:.0f} W: over it {:.1f} s, {} breaker trip{}\n", s.power_budget_w,
                       s.time_over_budget_s, s.breaker_trips, s.breaker_trips == 1 ? "" : "s");
  }
  // Per level of nested domains: the worst domain's peak, and the budget's toll over all of them.
  for (const char* level : {"rack", "row"}) {
    const DomainPowerStats* worst = nullptr;
    int n = 0;
    double over_s = 0;
    int64_t trips = 0;
    for (const DomainPowerStats& d : s.power_domains) {
      if (d.level != level) continue;
      ++n;
      over_s += d.time_over_budget_s;
      trips += d.breaker_trips;
      if (worst == nullptr || d.peak_w > worst->peak_w) worst = &d;
    }
    if (worst == nullptr) continue;
    out += fmt::format("  {} {}s: highest peak {:.0f} W ({}), p99 {:.0f} W", n, level, worst->peak_w, worst->name,
                       worst->p99_w);
    if (worst->budget_w > 0) {
      out += fmt::format(" | budget {:.0f} W each: over it {:.1f} s, {} breaker trip{}", worst->budget_w, over_s, trips,
                         trips == 1 ? "" : "s");
    }
    out += "\n";
  }
  if (s.power_controller != "none") {
    out += fmt::format("  power controller {}: {} cap{}, {} release{}\n", s.power_controller, s.cap_events,
                       s.cap_events == 1 ? "" : "s", s.release_events, s.release_events == 1 ? "" : "s");
  }
  if (s.carbon_kg) out += fmt::format("  carbon {:.2f} kg CO2e\n", *s.carbon_kg);
  if (s.kv.enabled) out += TransferLines(s.kv, run);
  out += fmt::format("  cost ${:.2f}/hour (hardware ${:.2f} + energy ${:.2f}) | ${:.2f} this run | {}\n",
                     s.cost_usd_per_hour, s.hardware.usd_per_hour, s.energy_usd_per_hour, s.cost_usd_total,
                     s.cost_usd_per_mtok ? fmt::format("${:.3f} per 1M output tokens", *s.cost_usd_per_mtok)
                                         : std::string("per 1M output tokens undefined (no output token)"));
  for (const CostLine& l : s.hardware.lines) {
    out += fmt::format("    {} x {} ({} x {}): ${:.2f}/hour [{}]\n", l.count, l.node, l.gpus, l.gpu, l.usd_per_hour, l.basis);
  }
  // Per replica when there are few; per deployment group otherwise (the JSON and SQLite keep every replica).
  constexpr size_t kMaxReplicaRows = 16;
  if (run.replicas.size() <= kMaxReplicaRows) {
    out += fmt::format("\n  {:>4} {:<14} {:<16} {:>3} {:>9} {:>7} {:>11} {:>8}\n", "rep", "group", "gpu", "tp",
                       "requests", "busy%", "preemptions", "kv peak%");
    for (const ReplicaResult& r : run.replicas) {
      const double util = s.duration_s > 0 ? r.stats.busy_s / s.duration_s * 100 : 0;
      const double kv = r.stats.kv_blocks_total > 0 ? 100.0 * r.stats.kv_blocks_peak / r.stats.kv_blocks_total : 0;
      out += fmt::format("  {:>4} {:<14} {:<16} {:>3} {:>9} {:>7.1f} {:>11} {:>8.1f}\n", r.replica, r.group_name, r.gpu,
                         r.tensor_parallel, r.stats.requests, util, r.stats.preemptions, kv);
    }
  } else {
    out += fmt::format("\n  {:<14} {:<16} {:>3} {:>8} {:>9} {:>10} {:>11} {:>12}\n", "group", "gpu", "tp", "replicas",
                       "requests", "mean busy%", "preemptions", "max kv peak%");
    for (size_t i = 0; i < run.replicas.size();) {
      const ReplicaResult& first = run.replicas[i];
      int64_t n = 0, requests = 0, preemptions = 0;
      double busy = 0, kv = 0;
      for (; i < run.replicas.size() && run.replicas[i].group == first.group; ++i, ++n) {
        const ReplicaResult& r = run.replicas[i];
        requests += r.stats.requests;
        preemptions += r.stats.preemptions;
        busy += r.stats.busy_s;
        if (r.stats.kv_blocks_total > 0) kv = std::max(kv, 100.0 * r.stats.kv_blocks_peak / r.stats.kv_blocks_total);
      }
      const double util = s.duration_s > 0 ? busy / static_cast<double>(n) / s.duration_s * 100 : 0;
      out += fmt::format("  {:<14} {:<16} {:>3} {:>8} {:>9} {:>10.1f} {:>11} {:>12.1f}\n", first.group_name, first.gpu,
                         first.tensor_parallel, n, requests, util, preemptions, kv);
    }
  }
  return out;
}

}  // namespace gpufleet
