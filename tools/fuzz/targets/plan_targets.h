// Fuzz targets for the capacity planner's readers (orchestration/plan): the plan file (plan_spec.h) and
// Mélange's solver input (melange_input.h), whose tables then go through the integer program
// (ilp_solver.h) when they are small enough to solve in well under a second.
//
// Besides "no crash", each checks what the planner relies on. A plan error names the file (and, where
// the reader has a node, its line and column); an accepted plan has candidates, rates and search
// settings within the documented ranges. A Mélange error names the file; an accepted table validates,
// has one bucket per cell of workload_distribution and one tput per bucket; a solved allocation serves
// every slice of every bucket with a rate, keeps each option's load within its units and its
// availability, and its cost is the sum of its parts, bounded below by best_bound.
#pragma once

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "orchestration/plan/capacity_table.h"
#include "orchestration/plan/ilp_solver.h"
#include "orchestration/plan/melange_input.h"
#include "orchestration/plan/plan_spec.h"
#include "tools/fuzz/targets/fuzz_support.h"

namespace gpufleet::fuzz {

// A plan file's YAML text (ParsePlanSpec reads it as the file "plans/fuzz-plan.yaml").
inline int FuzzPlanSpec(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string name = "plans/fuzz-plan.yaml";
  absl::StatusOr<PlanSpec> spec = ParsePlanSpec(text, name);
  if (!spec.ok()) {
    const std::string msg(spec.status().message());
    Require(msg.size() > name.size() + 2 && msg.compare(0, name.size() + 1, name + ":") == 0,
            "a plan error that does not start with the file's name");
    return 0;
  }
  const PlanSpec& p = *spec;
  Require(p.file == name && p.text == text, "a plan that does not keep its file and text");
  Require(!p.base.empty(), "a plan without a base scenario");
  Require(!p.rates.empty(), "a plan without rates");
  for (double r : p.rates) Require(std::isfinite(r) && r > 0 && r <= 1e6, "a rate multiplier outside (0, 1e6]");
  Require(!p.gpus.empty(), "a plan without GPU candidates");
  std::set<std::string> gpus;
  for (const PlanGpuCandidate& g : p.gpus) {
    Require(gpus.insert(g.gpu).second, "a GPU candidate listed twice");
    if (g.price_usd_per_hour) {
      Require(std::isfinite(*g.price_usd_per_hour) && *g.price_usd_per_hour >= 0 && *g.price_usd_per_hour <= 1e6,
              "a GPU price outside [0, 1e6]");
    }
    if (g.max_gpus) Require(*g.max_gpus >= 1 && *g.max_gpus <= 1000000, "a max_gpus outside [1, 1e6]");
  }
  Require(!p.tensor_parallel.empty(), "a plan without tensor_parallel degrees");
  for (int64_t tp : p.tensor_parallel) Require(tp >= 1 && tp <= 64 && (tp & (tp - 1)) == 0, "a tensor_parallel that is not a power of two in [1, 64]");
  for (int64_t m : p.max_batched_tokens) Require(m >= 1 && m <= (1 << 24), "a max_batched_tokens outside [1, 2^24]");
  Require(!p.schedulers.empty(), "a plan without schedulers");
  Require(p.max_batch_size >= 1 && p.max_batch_size <= (1 << 20), "a max_batch_size outside [1, 2^20]");
  for (int64_t s : p.seeds) Require(s >= 0, "a negative seed");
  Require(p.max_simulations >= 1 && p.max_simulations <= 10000000, "a max_simulations outside [1, 1e7]");
  Require(std::isfinite(p.time_limit_s) && p.time_limit_s >= 1 && p.time_limit_s <= 1e7, "a time limit outside [1, 1e7]");
  Require(std::isfinite(p.tolerance) && p.tolerance >= 0.005 && p.tolerance <= 1, "a tolerance outside [0.005, 1]");
  Require(p.max_repairs >= 0 && p.max_repairs <= 10000, "a max_repairs outside [0, 10000]");
  return 0;
}

// Instances larger than these are read but not solved: CBC's time on them, not the reader, would set the
// fuzzer's speed (each exec must stay well under libFuzzer's -timeout).
inline constexpr size_t kFuzzMaxIlpCells = 64;      // buckets x options
inline constexpr int64_t kFuzzMaxSliceFactor = 16;
inline constexpr double kFuzzIlpTimeLimitS = 1;

// A Mélange solver input (ParseMelangeJson reads it as "melange.json"), then, when it is small enough, the
// integer program over it.
inline int FuzzMelangeJson(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string name = "melange.json";
  absl::StatusOr<CapacityTable> table = ParseMelangeJson(text, name);
  if (!table.ok()) {
    const std::string msg(table.status().message());
    Require(msg.size() > name.size() + 2 && msg.compare(0, name.size() + 2, name + ": ") == 0,
            "a Mélange error that does not start with the file's name");
    return 0;
  }
  const CapacityTable& t = *table;
  Require(ValidateCapacityTable(t).ok(), "an accepted table that ValidateCapacityTable refuses");
  Require(!t.options.empty() && !t.rates.empty() && t.bucket_names.size() == t.rates.size(),
          "an accepted table without options, buckets or bucket names");
  for (const GpuOption& o : t.options) Require(o.tputs.size() == t.rates.size(), "an option without one tput per bucket");
  if (t.slice_factor > kFuzzMaxSliceFactor || t.options.size() * t.rates.size() > kFuzzMaxIlpCells) return 0;

  IlpOptions options;
  options.time_limit_s = kFuzzIlpTimeLimitS;
  absl::StatusOr<IlpSolution> s = SolveCapacityIlp(t, options);
  if (!s.ok()) {
    const absl::StatusCode code = s.status().code();
    Require(!s.status().message().empty(), "an ILP error without a message");
    // Internal means CBC or the program broke (ilp_solver.h): a finding, not a property of the input.
    Require(code == absl::StatusCode::kFailedPrecondition || code == absl::StatusCode::kDeadlineExceeded,
            std::string("the ILP failed on a valid table: ") + std::string(s.status().message()));
    return 0;
  }
  const size_t buckets = t.rates.size(), n = t.options.size();
  Require(s->units.size() == n && s->nodes.size() == n && s->gpus.size() == n && s->cost.size() == n &&
              s->load.size() == n && s->slices.size() == buckets,
          "an allocation without one entry per option and bucket");
  for (size_t b = 0; b < buckets; ++b) {
    Require(s->slices[b].size() == n, "a slice row without one entry per option");
    int64_t served = 0;
    for (size_t o = 0; o < n; ++o) {
      Require(s->slices[b][o] >= 0, "a negative slice count");
      Require(s->slices[b][o] == 0 || t.options[o].tputs[b] > 0, "slices on an option that cannot serve the bucket");
      served += s->slices[b][o];
    }
    Require(served == (t.rates[b] > 0 ? t.slice_factor : 0), "a bucket whose slices are not all served");
  }
  double total = 0;
  for (size_t o = 0; o < n; ++o) {
    const GpuOption& g = t.options[o];
    Require(s->units[o] >= 0 && s->gpus[o] == s->units[o] * g.gpus_per_replica, "units and GPUs that disagree");
    Require(std::isfinite(s->load[o]) && s->load[o] >= 0 && s->load[o] <= static_cast<double>(s->units[o]) + 1e-6,
            "an option loaded beyond its units");
    if (g.max_gpus) Require(s->gpus[o] <= *g.max_gpus, "an allocation beyond an option's availability");
    Require(std::isfinite(s->cost[o]) && s->cost[o] >= 0, "an option cost that is not a finite number >= 0");
    total += s->cost[o];
  }
  Require(std::fabs(total - s->total_cost) <= 1e-9 * std::max(1.0, std::fabs(total)), "a total cost that is not the sum of the options'");
  Require(s->best_bound <= s->total_cost, "a bound above the cost");
  Require(std::isfinite(s->total_cost) && s->total_cost >= 0, "a total cost that is not a finite number >= 0");
  Require(s->relative_gap >= 0 && s->relative_gap <= 1 + 1e-9, "a relative gap outside [0, 1]");
  Require(s->status == IlpStatus::kTimeLimit || options.relative_gap > 0 || s->relative_gap == 0,
          "an optimal allocation with a gap");
  return 0;
}

}  // namespace gpufleet::fuzz
