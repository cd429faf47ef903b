// Planner simulations as child processes (see plan_sims.h).
#include "orchestration/plan/plan_sims.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "orchestration/simulate_jobs.h"
#include "sim/util/fnv1a.h"
#include "sim/util/status_macros.h"

namespace gpufleet {

std::string PlanCandidate::GroupName() const {
  return absl::StrCat(gpu, "-tp", tensor_parallel, "-mbt", max_batched_tokens, "-", scheduler);
}

std::string PlanCandidate::Name() const {
  return absl::StrCat(gpu, " tp", tensor_parallel, " mbt", max_batched_tokens, " ", scheduler);
}

int64_t Fleet::total() const {
  int64_t n = 0;
  for (int64_t r : replicas) n += r;
  return n;
}

PlanSimulator::PlanSimulator(const PlanSpec& spec, std::vector<PlanCandidate> candidates, PlanSimulatorOptions options)
    : spec_(spec), candidates_(std::move(candidates)), o_(std::move(options)),
      cache_(o_.cache != nullptr ? o_.cache : &own_cache_) {}

std::string DeploymentOf(const Fleet& fleet, const std::vector<PlanCandidate>& candidates) {
  std::string deployment = "[";
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (fleet.replicas[i] <= 0) continue;
    const PlanCandidate& c = candidates[i];
    if (deployment.size() > 1) deployment += ", ";
    absl::StrAppend(&deployment, "{name: ", c.GroupName(), ", gpu: ", c.gpu, ", tensor_parallel: ", c.tensor_parallel,
                    ", replicas: ", fleet.replicas[i], ", max_batch_size: ", c.max_batch_size,
                    ", max_batched_tokens: ", c.max_batched_tokens, ", scheduler: ", c.scheduler, "}");
  }
  return deployment + "]";
}

std::vector<std::string> PlanSimulator::Args(const Request& r) const {
  std::vector<std::string> args = {"simulate", spec_.base, "--json", "--no-progress"};
  for (const ScenarioOverride& o : spec_.fixed) args.insert(args.end(), {"--set", absl::StrCat(o.path, "=", o.value)});
  args.insert(args.end(), {"--set", "cluster=auto", "--set", "deployment=" + DeploymentOf(r.fleet, candidates_)});
  for (const std::string& s : r.sets) args.insert(args.end(), {"--set", s});
  for (const std::string& s : o_.slo_sets) args.insert(args.end(), {"--set", s});
  args.insert(args.end(), {"--set", absl::StrFormat("workload.rate_multiplier=%.9g", r.rate_multiplier), "--seed",
                           absl::StrCat(r.seed)});
  if (!o_.prices.empty() && !r.probe) args.insert(args.end(), {"--set", "prices=" + o_.prices});
  return args;
}

std::string PlanSimulator::Key(const Request& r) const {
  // The arguments but the load and seed (stored beside the key); a probe's without its SLO targets.
  std::string text = absl::StrCat(GPUFLEET_VERSION, "\n", o_.context, "\n", r.probe ? "probe" : "run", "\n");
  for (const ScenarioOverride& o : spec_.fixed) absl::StrAppend(&text, o.path, "=", o.value, "\n");
  absl::StrAppend(&text, DeploymentOf(r.fleet, candidates_), "\n");
  for (const std::string& s : r.sets) absl::StrAppend(&text, s, "\n");
  if (!r.probe) {
    for (const std::string& s : o_.slo_sets) absl::StrAppend(&text, s, "\n");
    absl::StrAppend(&text, "prices=", o_.prices, "\n");
  }
  return absl::StrFormat("%016x", Fnv1a(text));
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

SimOutcome ParseOutcome(bool exit_ok, const std::string& out, const std::string& error_line, const SloSpec& slos) {
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
      const std::string metric = s.value("metric", std::string("?"));
      const Slo* slo = metric == "ttft" ? &slos.ttft : metric == "tbt" ? &slos.tbt : metric == "e2e" ? &slos.e2e : nullptr;
      if (slo == nullptr || !slo->enabled) continue;
      any = true;
      const bool evaluated = s.value("evaluated", false);
      const double observed = s.contains("observed_s") && s["observed_s"].is_number() ? s["observed_s"].get<double>() : INFINITY;
      const bool met = evaluated && observed <= slo->target_s;
      const double ratio = evaluated && slo->target_s > 0 ? observed / slo->target_s : INFINITY;
      if (!met) o.slos_met = false;
      if (ratio > o.worst_ratio || o.worst_slo.empty()) {
        o.worst_ratio = ratio;
        o.worst_slo = absl::StrFormat("%s p%g", metric, s.value("percentile", 0.0));
      }
    }
  }
  if (!any) o.slos_met = false;
  if (partial) o.worst_ratio = INFINITY;
  return o;
}

absl::StatusOr<std::vector<SimOutcome>> PlanSimulator::Run(const std::vector<Request>& requests) {
  std::vector<std::vector<std::string>> jobs;
  std::vector<size_t> job_of;  // request index of each job
  std::vector<const CachedSim*> cached(requests.size(), nullptr);
  std::vector<std::string> keys;
  for (size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    keys.push_back(Key(r));
    cached[i] = cache_->Find(keys.back(), r.rate_multiplier, r.seed);
    if (cached[i] != nullptr) {
      ++cache_hits_;
      continue;
    }
    jobs.push_back(Args(r));
    if (r.record && !o_.record_db.empty()) jobs.back().insert(jobs.back().end(), {"--db", o_.record_db});
    job_of.push_back(i);
  }
  simulations_ += static_cast<int64_t>(jobs.size());
  std::function<void(size_t, size_t)> on_done;
  if (o_.progress && !jobs.empty()) {
    on_done = [&](size_t done, size_t total) {
      std::fprintf(stderr, "\rplan: %s: %zu/%zu simulations (%lld so far, %lld from the cache)   ", stage_.c_str(), done,
                   total, static_cast<long long>(simulations_ - static_cast<int64_t>(total - done)),
                   static_cast<long long>(cache_hits_));
      if (done == total) std::fputc('\n', stderr);
    };
  }
  std::vector<JobResult> results;
  if (o_.runner) {
    GF_ASSIGN_OR_RETURN(results, o_.runner(jobs, on_done));
  } else {
    GF_ASSIGN_OR_RETURN(results, RunJobs(o_.binary, jobs, o_.jobs, on_done));
  }
  std::vector<SimCache::Entry> fresh;
  for (size_t k = 0; k < results.size(); ++k) {
    const Request& r = requests[job_of[k]];
    // An interrupted child is no result: it must not be remembered as one.
    if (!WIFEXITED(results[k].wait_status)) continue;
    fresh.push_back({keys[job_of[k]], r.rate_multiplier, r.seed, {results[k].ok(), results[k].out, results[k].error_line}});
  }
  GF_RETURN_IF_ERROR(cache_->Put(fresh));
  std::vector<SimOutcome> out(requests.size());
  for (size_t i = 0; i < requests.size(); ++i)
    if (cached[i] != nullptr) out[i] = ParseOutcome(cached[i]->ok, cached[i]->out, cached[i]->error_line, o_.slos);
  for (size_t k = 0; k < results.size(); ++k)
    out[job_of[k]] = ParseOutcome(results[k].ok(), results[k].out, results[k].error_line, o_.slos);
  return out;
}

std::vector<std::pair<double, SimOutcome>> PlanSimulator::Known(const Request& r) const {
  std::vector<std::pair<double, SimOutcome>> out;
  for (const auto& [m, c] : cache_->Known(Key(r), r.seed)) out.emplace_back(m, ParseOutcome(c->ok, c->out, c->error_line, o_.slos));
  return out;
}

}  // namespace gpufleet
