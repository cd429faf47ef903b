// Planner simulations as child processes (see plan_sims.h).
#include "orchestration/plan/plan_sims.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "orchestration/simulate_jobs.h"
#include "sim/util/status_macros.h"

namespace gpufleet {

std::string PlanCandidate::Name() const {
  return absl::StrCat(gpu, " tp", tensor_parallel, " mbt", max_batched_tokens, " ", scheduler);
}

int64_t Fleet::total() const {
  int64_t n = 0;
  for (int64_t r : replicas) n += r;
  return n;
}

PlanSimulator::PlanSimulator(const PlanSpec& spec, std::vector<PlanCandidate> candidates, std::string binary, int jobs,
                             std::string prices_override, std::string record_db)
    : spec_(spec), candidates_(std::move(candidates)), binary_(std::move(binary)), jobs_(jobs),
      prices_(std::move(prices_override)), record_db_(std::move(record_db)) {}

std::vector<std::string> PlanSimulator::Args(const Fleet& fleet, double rate_multiplier, int64_t seed) const {
  std::vector<std::string> args = {"simulate", spec_.base, "--json", "--no-progress"};
  for (const ScenarioOverride& o : spec_.fixed) args.insert(args.end(), {"--set", absl::StrCat(o.path, "=", o.value)});
  std::string deployment = "[";
  for (size_t i = 0; i < candidates_.size(); ++i) {
    if (fleet.replicas[i] <= 0) continue;
    const PlanCandidate& c = candidates_[i];
    if (deployment.size() > 1) deployment += ", ";
    absl::StrAppend(&deployment, "{name: ", c.gpu, "-tp", c.tensor_parallel, "-mbt", c.max_batched_tokens, "-", c.scheduler, ", gpu: ", c.gpu, ", tensor_parallel: ", c.tensor_parallel,
                    ", replicas: ", fleet.replicas[i], ", max_batch_size: ", c.max_batch_size,
                    ", max_batched_tokens: ", c.max_batched_tokens, ", scheduler: ", c.scheduler, "}");
  }
  deployment += "]";
  args.insert(args.end(), {"--set", "cluster=auto", "--set", "deployment=" + deployment, "--set",
                           absl::StrFormat("workload.rate_multiplier=%.9g", rate_multiplier), "--seed",
                           absl::StrCat(seed)});
  if (!prices_.empty()) args.insert(args.end(), {"--set", "prices=" + prices_});
  return args;
}

nlohmann::ordered_json FleetGroupsJson(const Fleet& fleet, const std::vector<PlanCandidate>& candidates) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (size_t i = 0; i < candidates.size() && i < fleet.replicas.size(); ++i) {
    if (fleet.replicas[i] == 0) continue;
    const PlanCandidate& c = candidates[i];
    a.push_back({{"gpu", c.gpu}, {"tensor_parallel", c.tensor_parallel}, {"max_batched_tokens", c.max_batched_tokens},
                 {"scheduler", c.scheduler}, {"replicas", fleet.replicas[i]}});
  }
  return a;
}

SimOutcome ParseOutcome(int exit_ok, const std::string& out, const std::string& error_line) {
  SimOutcome o;
  if (!exit_ok) {
    o.error = error_line.empty() ? "simulation failed" : error_line;
    return o;
  }
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    o.error = "simulation printed no JSON summary";
    return o;
  }
  o.ran = true;
  o.summary = j;
  auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; };
  o.cost_usd_per_hour = num("cost_usd_per_hour");
  o.hardware_usd_per_hour = num("hardware_usd_per_hour");
  o.cost_usd_per_mtok = num("cost_usd_per_mtok");
  o.goodput_rps = num("goodput_rps");
  o.gpus_total = static_cast<int64_t>(num("gpus_total"));
  const bool partial = j.value("partial", false);
  o.slos_met = !partial;
  bool any = false;
  if (j.contains("slos") && j["slos"].is_array()) {
    for (const auto& s : j["slos"]) {
      any = true;
      const bool evaluated = s.value("evaluated", false);
      const double target = s.value("target_s", 0.0);
      const double observed = s.contains("observed_s") && s["observed_s"].is_number() ? s["observed_s"].get<double>() : INFINITY;
      const double ratio = evaluated && target > 0 ? observed / target : INFINITY;
      if (!evaluated || !s.value("met", false)) o.slos_met = false;
      if (ratio > o.worst_ratio || o.worst_slo.empty()) {
        o.worst_ratio = ratio;
        o.worst_slo = absl::StrFormat("%s p%g", s.value("metric", std::string("?")), s.value("percentile", 0.0));
      }
    }
  }
  if (!any) o.slos_met = false;
  if (partial) o.worst_ratio = INFINITY;
  return o;
}

absl::StatusOr<std::vector<SimOutcome>> PlanSimulator::Run(const std::vector<Request>& requests) {
  std::vector<std::vector<std::string>> jobs;
  for (const Request& r : requests) {
    jobs.push_back(Args(r.fleet, r.rate_multiplier, r.seed));
    if (r.record && !record_db_.empty()) jobs.back().insert(jobs.back().end(), {"--db", record_db_});
  }
  simulations_ += static_cast<int64_t>(jobs.size());
  GF_ASSIGN_OR_RETURN(std::vector<JobResult> results, RunJobs(binary_, jobs, jobs_));
  std::vector<SimOutcome> out;
  for (const JobResult& r : results) out.push_back(ParseOutcome(r.ok(), r.out, r.error_line));
  return out;
}

}  // namespace gpufleet
