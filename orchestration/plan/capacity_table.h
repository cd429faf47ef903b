// The capacity planner's integer program reads this table and nothing else: GPU options with their prices
// and the request rate one serving unit of each sustains per request-size bucket, and the workload as a
// request rate per bucket. Where the numbers came from (a Mélange JSON file, melange_input.h; later,
// simulations of one replica) is not its concern, so that the solver can be tested against brute force on
// made-up tables.
//
// A bucket is a request-size class (a range of prompt lengths × a range of output lengths), flattened to
// one index. A unit is one model replica, on `gpus_per_replica` GPUs of one option.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gpufleet {

// Replicas bought in whole nodes: a replica never straddles a node it does not fill, so a node of
// `gpus_per_node` GPUs holds floor(gpus_per_node / gpus_per_replica) replicas, and a replica larger than a
// node takes ceil(gpus_per_replica / gpus_per_node) whole nodes. The nodes are what is paid for.
struct NodeShape {
  int64_t gpus_per_node = 8;
  double price_per_hour = 0;  // one node, $/h
};

struct GpuOption {
  std::string name;
  // $/h of one GPU; a unit costs gpus_per_replica times this (Mélange's plain per-GPU pricing). Unused when
  // `node` is set.
  double price_per_gpu_hour = 0;
  int64_t gpus_per_replica = 1;
  std::optional<NodeShape> node;
  // The most GPUs of this option that can be had (cloud availability); whole nodes count all their GPUs.
  std::optional<int64_t> max_gpus;
  // Watts one unit draws, for CapacityTable::power_budget_w (budgeted at this figure: a planning bound).
  double watts_per_unit = 0;
  // Per bucket: the request rate (req/s) one unit sustains within its SLOs; 0 = it cannot serve the bucket.
  std::vector<double> tputs;
};

struct CapacityTable {
  std::vector<GpuOption> options;
  std::vector<std::string> bucket_names;  // per bucket, for messages and reports (e.g. "[1][0]")
  std::vector<double> rates;              // per bucket: the workload's request rate, req/s
  // Each bucket's rate is cut into this many equal slices, each served by one option: 1 keeps a bucket on
  // one GPU type; larger lets a bucket be shared between types, at the price of a larger program.
  int64_t slice_factor = 1;
  std::optional<double> power_budget_w;  // total watts of all units, when the site has a limit
};

// Checks shapes and ranges (every option has one tput per bucket, numbers finite and >= 0, counts >= 1,
// a unit or node price of at most kMaxPricePerHour, no bucket needing more than kMaxUnitsPerBucket units
// of an option that serves it). InvalidArgument naming the option and bucket at fault.
absl::Status ValidateCapacityTable(const CapacityTable& table);

// How a node-shaped option's replicas pack: `replicas` replicas fill `nodes` nodes (one of the two is 1).
struct NodePacking {
  int64_t replicas = 1;
  int64_t nodes = 1;
};
NodePacking PackingOf(const GpuOption& option);  // option.node must be set

// Nodes needed to hold `units` replicas of a node-shaped option.
int64_t NodesForUnits(const GpuOption& option, int64_t units);

// Units of `option` that fit in its availability limit, or nullopt when it has none.
std::optional<int64_t> MaxUnits(const GpuOption& option);

// The largest slice factor accepted: beyond it the program grows without changing the answer much.
inline constexpr int64_t kMaxSliceFactor = 1024;

// The most units of one option a bucket's rate may need (rate / tput). Beyond it the figures are a unit
// mistake, not a fleet, and the integer program's unit counts would not fit an int64_t once summed.
inline constexpr double kMaxUnitsPerBucket = 1e12;

// The highest price of a unit (price_per_gpu_hour × gpus_per_replica) or a node, $/h. CBC's LP solver
// aborts on an objective coefficient of 1e25 or more (an assertion in ClpSimplex::createRim).
inline constexpr double kMaxPricePerHour = 1e9;

}  // namespace gpufleet
