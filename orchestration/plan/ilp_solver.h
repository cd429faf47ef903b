// The cheapest GPU mix for a workload: Mélange's integer program (Griggs et al., "Mélange: Cost Efficient
// Large Language Model Serving by Exploiting GPU Heterogeneity", 2024), solved with COIN-OR CBC, plus the
// constraints a real purchase has: availability limits, replicas bought in whole nodes, a power budget.
//
// Program, for a CapacityTable (capacity_table.h), S = slice_factor, r_b = rate of bucket b, t_bo = tput:
//   each bucket's rate is cut into S slices of r_b / S; y_bo = slices of bucket b served by option o
//     (Mélange's binary x[slice][option] summed over a bucket's identical slices: the same program
//     without the symmetry that makes branch-and-bound revisit permutations of equal slices)
//   sum_o y_bo = S                                   every slice is served, by options with t_bo > 0
//   sum_b y_bo * r_b / (S * t_bo) <= n_o             units n_o carry the load assigned to them
//   node-shaped o: replicas(o) * m_o >= nodes(o) * n_o   whole nodes m_o hold the replicas
//   n_o <= MaxUnits(o), sum_o w_o * n_o <= budget     availability and power, when given
//   minimize sum_o price(o) * (m_o if node-shaped, else gpus_per_replica * n_o)
// Used by `gpufleet plan` (tools/gpufleet/plan_command.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "orchestration/plan/capacity_table.h"

namespace gpufleet {

struct IlpOptions {
  double time_limit_s = 60;  // past it, the best allocation found so far, with its gap
  double relative_gap = 0;   // stop once (cost - bound) / cost is this small; 0: prove the optimum
};

enum class IlpStatus {
  kOptimal,    // proven optimal (within IlpOptions::relative_gap)
  kTimeLimit,  // stopped by the time limit: the best allocation found, not proven optimal
};
const char* IlpStatusName(IlpStatus status);  // "optimal", "time_limit"

struct IlpSolution {
  IlpStatus status = IlpStatus::kOptimal;
  double total_cost = 0;    // $/h of the allocation below (recomputed from it, not the solver's float)
  double best_bound = 0;    // no allocation costs less than this
  double relative_gap = 0;  // (total_cost - best_bound) / total_cost, 0 when total_cost is 0
  // Per option, in the table's order:
  std::vector<int64_t> units;  // replicas
  std::vector<int64_t> nodes;  // nodes bought (node-shaped options; 0 for the others)
  std::vector<int64_t> gpus;   // GPUs bought: nodes × gpus_per_node, or units × gpus_per_replica
  std::vector<double> cost;    // $/h
  std::vector<double> load;    // units' worth of requests assigned (<= units): the fleet's utilization
  // slices[b][o]: slices of bucket b served by option o (each row sums to slice_factor; all 0 when r_b = 0)
  std::vector<std::vector<int64_t>> slices;
  double solve_seconds = 0;  // building and solving the program (wall clock)
};

// Deterministic: the same table and options give the same allocation (unless the time limit cuts the
// search short). One call at a time per process: CBC 2.10's solver driver is not thread-safe
// (coin-or/Cbc#332). Errors: InvalidArgument for a table ValidateCapacityTable refuses;
// FailedPrecondition when no allocation exists, saying why when a single cause can be named (a bucket no
// option serves, availability too small for a bucket, the power budget); DeadlineExceeded when the time
// limit passes before any allocation is found; Internal if CBC fails.
absl::StatusOr<IlpSolution> SolveCapacityIlp(const CapacityTable& table, const IlpOptions& options = {});

}  // namespace gpufleet
