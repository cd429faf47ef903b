// `gpufleet oversubscribe SCENARIO --budget-w W --servers A..B`: how many servers fit under a power budget
// when a controller caps them (orchestration/oversubscription.h; docs/power-model.md#oversubscription). Runs
// the study as a sweep into a database (resumable like any sweep), prints one row per server count and the
// answer.

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "models/catalog.h"
#include "orchestration/child_processes.h"
#include "orchestration/oversubscription.h"
#include "orchestration/sweep_plan.h"
#include "orchestration/sweep_runner.h"
#include "sim/report/sqlite_db.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

// "6,7,9" or "6..10" (or both: "4,6..8").
absl::StatusOr<std::vector<int64_t>> ParseCounts(const std::string& text, const std::string& flag) {
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::vector<std::string> ends = absl::StrSplit(part, "..");
    int64_t a = 0, b = 0;
    const bool ok = ends.size() == 1 ? absl::SimpleAtoi(ends[0], &a) && (b = a, true)
                                     : ends.size() == 2 && absl::SimpleAtoi(ends[0], &a) && absl::SimpleAtoi(ends[1], &b);
    if (!ok || a < 1 || b < a || b - a > 1000) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "': '", part,
                                                     "' is not a count or a range; expected e.g. 6,8,10 or 6..12"));
    }
    for (int64_t v = a; v <= b; ++v) out.push_back(v);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": expected at least one count"));
  return out;
}

// "1%" or "0.01".
absl::StatusOr<double> ParseShare(std::string text, const std::string& flag) {
  double scale = 1;
  if (!text.empty() && text.back() == '%') {
    text.pop_back();
    scale = 0.01;
  }
  double v = 0;
  if (!absl::SimpleAtod(text, &v) || v * scale < 0 || v * scale > 1) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "': expected a share of requests, 0-1 or 0%-100%"));
  }
  return v * scale;
}

void PrintTable(const OversubscriptionPlan& plan, const OversubscriptionResult& r, double max_loss,
                const std::string& node, const std::string& controller) {
  std::printf("oversubscription study: %s servers under %.0f W of IT power (%.0f W nameplate each), controller %s\n",
              node.c_str(), plan.budget_w, plan.server_peak_w, controller.c_str());
  std::printf("%7s %6s %8s %7s %9s %8s %12s %9s %5s %9s %8s\n", "servers", "ratio", "SLO att", "loss", "TTFT p99",
              "TBT p99", "capped GPU-s", "over s", "trips", "IT peak W", "$/1M tok");
  for (size_t i = 0; i < r.rows.size(); ++i) {
    const OversubscriptionRow& x = r.rows[i];
    if (!x.ran) {
      std::printf("%7lld %6.2f   failed (see `gpufleet report` on the database)\n", static_cast<long long>(x.servers),
                  x.ratio);
      continue;
    }
    const double points = std::abs(x.loss) < 5e-4 ? 0.0 : -100 * x.loss;  // no "-0.0"
    const std::string loss = static_cast<int>(i) == r.baseline ? "base" : absl::StrFormat("%+.1f%%", points);
    std::printf("%7lld %6.2f %7.1f%% %7s %8.3fs %7.3fs %12.0f %9.1f %5.0f %9.0f %8.3f%s%s\n",
                static_cast<long long>(x.servers), x.ratio, 100 * x.slo_attainment, loss.c_str(), x.ttft_p99_s,
                x.tbt_p99_s, x.capped_gpu_s, x.time_over_budget_s, x.breaker_trips, x.it_power_peak_w,
                x.cost_usd_per_mtok, x.partial ? " partial" : "", static_cast<int>(i) == r.answer ? "  <= answer" : "");
  }
  if (r.baseline < 0) {
    std::printf("no answer: the baseline (the largest count within the budget) did not run\n");
    return;
  }
  const OversubscriptionRow& base = r.rows[static_cast<size_t>(r.baseline)];
  const OversubscriptionRow& ans = r.rows[static_cast<size_t>(std::max(r.answer, r.baseline))];
  if (r.answer <= r.baseline) {
    std::printf("answer: no oversubscription within a %.1f-point SLO-attainment loss: stay at %lld servers (ratio %.2f)\n",
                100 * max_loss, static_cast<long long>(base.servers), base.ratio);
    return;
  }
  std::printf("answer: %lld servers, oversubscription ratio %.2f (%+.0f%% servers on the %lld-server baseline): SLO "
              "attainment %.1f%%, %.1f points below the baseline (bound %.1f), no breaker trip\n",
              static_cast<long long>(ans.servers), ans.ratio,
              100.0 * static_cast<double>(ans.servers - base.servers) / static_cast<double>(base.servers),
              static_cast<long long>(base.servers), 100 * ans.slo_attainment, 100 * ans.loss, 100 * max_loss);
}

nlohmann::ordered_json ResultJson(const OversubscriptionPlan& plan, const OversubscriptionResult& r, double max_loss) {
  nlohmann::ordered_json j;
  j["budget_w"] = plan.budget_w;
  j["server_peak_w"] = plan.server_peak_w;
  j["max_loss"] = max_loss;
  j["rows"] = nlohmann::ordered_json::array();
  for (const OversubscriptionRow& x : r.rows) {
    nlohmann::ordered_json row{{"servers", x.servers}, {"ratio", x.ratio}, {"ran", x.ran}};
    if (x.ran) {
      row["partial"] = x.partial;
      row["slo_attainment"] = x.slo_attainment;
      row["loss"] = x.loss;
      row["ttft_p99_s"] = x.ttft_p99_s;
      row["tbt_p99_s"] = x.tbt_p99_s;
      row["capped_gpu_s"] = x.capped_gpu_s;
      row["time_over_budget_s"] = x.time_over_budget_s;
      row["breaker_trips"] = x.breaker_trips;
      row["it_power_peak_w"] = x.it_power_peak_w;
      row["cost_usd_per_mtok"] = x.cost_usd_per_mtok;
      row["throughput_tok_s"] = x.throughput_tok_s;
      row["acceptable"] = x.acceptable;
    }
    j["rows"].push_back(row);
  }
  j["baseline_servers"] = r.baseline >= 0 ? nlohmann::ordered_json(r.rows[r.baseline].servers) : nullptr;
  j["answer_servers"] = r.answer >= 0 ? nlohmann::ordered_json(r.rows[r.answer].servers) : nullptr;
  j["answer_ratio"] = r.answer >= 0 ? nlohmann::ordered_json(r.rows[r.answer].ratio) : nullptr;
  return j;
}

}  // namespace

std::function<int()> AddOversubscribeCommand(CLI::App& app) {
  struct Flags {
    std::string scenario, servers, controller = "polca", max_loss = "1%", seeds, db;
    double budget_w = 0;
    int jobs = 0;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "oversubscribe", "How many servers fit under a power budget with capping: run a server count per point and "
                       "report SLO attainment, latency, capping, breaker trips and cost per oversubscription ratio");
  cmd->add_option("scenario", f->scenario, "Base scenario: one node group; each server added keeps its replicas and load")
      ->required();
  cmd->add_option("--servers", f->servers, "Server counts to run, e.g. 6..12 or 6,8,10 (include one within the budget)")
      ->required();
  cmd->add_option("--budget-w", f->budget_w, "The cluster's IT power budget in watts (default: the scenario's power.budget_w)")
      ->check(CLI::Range(1.0, 1e10));
  cmd->add_option("--controller", f->controller, "power.controller of every point, a name or a YAML flow mapping "
                                                  "(default polca; `gpufleet policies`)");
  cmd->add_option("--max-loss", f->max_loss, "Acceptable drop in SLO attainment from the baseline, e.g. 1% or 0.01 "
                                             "(default 1%)");
  cmd->add_option("--seeds", f->seeds, "Seeds of every count, e.g. 1,2,3 (default: the scenario's seed)");
  cmd->add_option("--jobs,-j", f->jobs, "Points run at once (default: the machine's cores)")->check(CLI::Range(1, 4096));
  cmd->add_option("--db", f->db, "Run database (created if absent; default: oversubscribe-STEM.db); rerunning resumes");
  cmd->add_flag("--json", f->json, "Print the study as JSON");
  return [f]() -> int {
    // The points run `gpufleet simulate` with its default catalog, so the study reads the same one.
    auto catalog = Catalog::LoadFromDir(Catalog::DefaultDir());
    if (!catalog.ok()) return ReportError(catalog.status());
    OversubscriptionOptions o;
    o.scenario = f->scenario;
    o.budget_w = f->budget_w;
    o.controller = f->controller;
    auto servers = ParseCounts(f->servers, "--servers");
    if (!servers.ok()) return ReportError(servers.status());
    o.servers = *servers;
    auto loss = ParseShare(f->max_loss, "--max-loss");
    if (!loss.ok()) return ReportError(loss.status());
    o.max_loss = *loss;
    if (!f->seeds.empty()) {
      for (absl::string_view s : absl::StrSplit(f->seeds, ',', absl::SkipWhitespace())) {
        int64_t v = 0;
        if (!absl::SimpleAtoi(s, &v) || v < 0) {
          return ReportError(absl::InvalidArgumentError(absl::StrCat("--seeds '", f->seeds, "': expected integers >= 0")));
        }
        o.seeds.push_back(v);
      }
    }
    auto plan = PlanOversubscription(o, *catalog);
    if (!plan.ok()) return ReportError(plan.status());
    auto sweep = PlanSweep(plan->sweep);
    if (!sweep.ok()) return ReportError(sweep.status());
    const std::string db =
        f->db.empty() ? absl::StrCat("oversubscribe-", std::filesystem::path(f->scenario).stem().string(), ".db") : f->db;
    if (auto st = CheckRunDatabase(db); !st.ok()) return ReportError(st);
    auto local = LocalSweepOptions(db, f->jobs);
    if (!local.ok()) return ReportError(local.status());
    const SweepRunOptions& options = *local;
    auto run = RunSweep(plan->sweep, *sweep, options);
    if (!run.ok()) return ReportError(run.status());
    if (run->stop_signal != 0) return 128 + run->stop_signal;
    auto report = ReadSweepReport(db, sweep->sweep_id, OversubscriptionMetrics());
    if (!report.ok()) return ReportError(report.status());
    const OversubscriptionResult result = ConcludeOversubscription(*plan, *report, o.max_loss);
    if (f->json) {
      std::printf("%s\n", ResultJson(*plan, result, o.max_loss).dump(2).c_str());
    } else {
      PrintTable(*plan, result, o.max_loss, plan->node_name, o.controller);
      std::printf("runs in %s (`gpufleet report %s --sweep %s` for every figure)\n", db.c_str(), db.c_str(),
                  plan->sweep.name.c_str());
    }
    return run->failed > 0 ? 1 : 0;
  };
}

}  // namespace gpufleet
