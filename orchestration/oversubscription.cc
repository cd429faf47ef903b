// The power-oversubscription study (see oversubscription.h).
#include "orchestration/oversubscription.h"

#include <algorithm>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/util/status_macros.h"

namespace gpufleet {
namespace {

std::string Number(double v) { return absl::StrFormat("%.15g", v); }

template <class T>
std::string FlowList(const std::vector<T>& v) {
  std::vector<std::string> parts;
  for (const T& x : v) parts.push_back(Number(static_cast<double>(x)));
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

}  // namespace

const std::vector<std::string>& OversubscriptionMetrics() {
  static const std::vector<std::string> m = {"slo_attainment",   "ttft_p99_s",     "tbt_p99_s",
                                             "capped_gpu_s",     "time_over_budget_s", "breaker_trips",
                                             "it_power_peak_w",  "cost_usd_per_mtok",  "throughput_tok_s"};
  return m;
}

absl::StatusOr<OversubscriptionPlan> PlanOversubscription(const OversubscriptionOptions& o, const Catalog& catalog) {
  GF_ASSIGN_OR_RETURN(Scenario base, LoadScenario(o.scenario, catalog));
  if (base.cluster_auto || base.cluster.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        o.scenario, ": the study grows one node group; the scenario has ",
        base.cluster_auto ? "an automatic cluster" : absl::StrCat(base.cluster.size(), " node groups"),
        "; expected cluster.nodes with one entry (the servers under the budget)"));
  }
  const NodeSpec& node = *base.cluster[0].node;
  const int64_t base_servers = base.cluster[0].count;
  const GpuSpec* gpu = catalog.FindGpu(node.gpu);
  OversubscriptionPlan plan;
  plan.node_name = node.name;
  plan.server_peak_w = node.gpus_per_node * gpu->tdp_w + node.non_gpu_max_w;
  plan.budget_w = o.budget_w > 0 ? o.budget_w : base.power.budget_w;
  if (plan.budget_w <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(o.scenario, ": no power budget; expected --budget-w WATTS or "
                                                               "power.budget_w in the scenario"));
  }
  plan.servers = o.servers;
  std::sort(plan.servers.begin(), plan.servers.end());
  plan.servers.erase(std::unique(plan.servers.begin(), plan.servers.end()), plan.servers.end());
  if (plan.servers.empty() || plan.servers.front() < 1) {
    return absl::InvalidArgumentError("--servers: expected server counts >= 1");
  }
  if (plan.servers.front() * plan.server_peak_w > plan.budget_w) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--servers: every count is oversubscribed (%d x %s at %.0f W nameplate is over the %.0f W budget); "
        "expected at least one count of at most %d servers, the baseline the others are compared with",
        plan.servers.front(), node.name, plan.server_peak_w, plan.budget_w,
        static_cast<int64_t>(plan.budget_w / plan.server_peak_w)));
  }

  // Every server keeps the base scenario's share of replicas and load.
  std::vector<std::string> replica_axes;
  for (size_t g = 0; g < base.deployment.size(); ++g) {
    const int64_t replicas = base.deployment[g].replicas;
    if (replicas % base_servers != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: deployment[%d] has %d replicas on %d servers, not a whole number per server; expected replicas "
          "a multiple of cluster.nodes[0].count, so that each server added brings the same replicas",
          o.scenario, g, replicas, base_servers));
    }
    std::vector<int64_t> per_point;
    for (int64_t s : plan.servers) per_point.push_back(replicas / base_servers * s);
    replica_axes.push_back(absl::StrCat("    deployment[", g, "].replicas: ", FlowList(per_point), "\n"));
  }
  std::vector<double> rates;
  for (int64_t s : plan.servers) rates.push_back(base.workload.rate_multiplier * static_cast<double>(s) / base_servers);
  std::vector<int64_t> nodes(plan.servers.begin(), plan.servers.end());

  // The power section: set the budget and the controller, keeping the rest of the scenario's.
  const bool has_power = YAML::Load(base.text)["power"].IsDefined();
  std::string set;
  if (has_power) {
    set = absl::StrCat("  power.budget_w: ", Number(plan.budget_w), "\n  power.controller: ", o.controller, "\n");
  } else {
    set = absl::StrCat("  power: {budget_w: ", Number(plan.budget_w), ", controller: ", o.controller, "}\n");
  }
  const std::string stem = std::filesystem::path(o.scenario).stem().string();
  std::string yaml = absl::StrCat(
      "# gpufleet oversubscribe: ", node.name, " servers under ", Number(plan.budget_w), " W of IT power (",
      Number(plan.server_peak_w), " W nameplate each), controller ", o.controller, "\n",
      "name: oversubscribe-", stem, "\n",
      "base: ", std::filesystem::absolute(o.scenario).lexically_normal().string(), "\n",
      "set:\n", set,
      "zip:\n  - cluster.nodes[0].count: ", FlowList(nodes), "\n",
      absl::StrJoin(replica_axes, ""),
      "    workload.rate_multiplier: ", FlowList(rates), "\n");
  if (!o.seeds.empty()) absl::StrAppend(&yaml, "seeds: ", FlowList(o.seeds), "\n");
  GF_ASSIGN_OR_RETURN(plan.sweep, ParseSweepSpec(yaml, "oversubscribe.yaml"));
  return plan;
}

OversubscriptionResult ConcludeOversubscription(const OversubscriptionPlan& plan, const SweepReport& report,
                                                double max_loss) {
  OversubscriptionResult out;
  for (size_t i = 0; i < plan.servers.size(); ++i) {
    OversubscriptionRow row;
    row.servers = plan.servers[i];
    row.ratio = static_cast<double>(row.servers) * plan.server_peak_w / plan.budget_w;
    // The zip axis is the sweep's only one: configuration i is server count i.
    auto p = std::find_if(report.points.begin(), report.points.end(),
                          [&](const ReportPoint& r) { return r.config == static_cast<int64_t>(i); });
    if (p != report.points.end() && p->failed == 0 && !p->seeds.empty()) {
      row.ran = true;
      row.partial = p->partial;
      auto get = [&](const char* m) {
        auto it = p->metrics.find(m);
        return it == p->metrics.end() ? 0.0 : it->second.mean;
      };
      row.slo_attainment = get("slo_attainment");
      row.ttft_p99_s = get("ttft_p99_s");
      row.tbt_p99_s = get("tbt_p99_s");
      row.capped_gpu_s = get("capped_gpu_s");
      row.time_over_budget_s = get("time_over_budget_s");
      row.breaker_trips = get("breaker_trips");
      row.it_power_peak_w = get("it_power_peak_w");
      row.cost_usd_per_mtok = get("cost_usd_per_mtok");
      row.throughput_tok_s = get("throughput_tok_s");
    }
    if (row.ratio <= 1.0 && row.ran) out.baseline = static_cast<int>(out.rows.size());
    out.rows.push_back(row);
  }
  if (out.baseline < 0) return out;
  const double reference = out.rows[static_cast<size_t>(out.baseline)].slo_attainment;
  bool run_of_acceptable = true;  // the answer must hold at every count from the baseline up to it
  for (size_t i = 0; i < out.rows.size(); ++i) {
    OversubscriptionRow& r = out.rows[i];
    if (!r.ran) {
      if (static_cast<int>(i) > out.baseline) run_of_acceptable = false;
      continue;
    }
    r.loss = reference - r.slo_attainment;
    r.acceptable = r.loss <= max_loss + 1e-12 && r.breaker_trips == 0 && !r.partial;
    if (static_cast<int>(i) < out.baseline) continue;
    run_of_acceptable = run_of_acceptable && r.acceptable;
    if (run_of_acceptable) out.answer = static_cast<int>(i);
  }
  return out;
}

}  // namespace gpufleet
