// The performance model: how long one forward iteration of a batch takes on one model replica.
//
// The replica asks it once per iteration; the answer is the simulated time the replica's GPUs are
// busy. Implementations: the calibrated operator model (models/calibrated_perf_model.h, the default), the
// spec roofline (models/roofline_perf_model.h) and a constant time for queueing what-ifs. Each says what it is through Label(), which every report prints, so a number
// from an uncalibrated model is never mistaken for a calibrated one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "models/catalog.h"

namespace gpufleet {

// One sequence's share of an iteration.
struct SeqWork {
  uint32_t new_tokens = 0;      // tokens computed this iteration (prompt chunk, or 1 for a decode step)
  uint32_t context_tokens = 0;  // tokens already in this sequence's KV cache before the iteration
};

// What one GPU of the replica does during an iteration, for utilization and the power model
// (models/power_model.h). Kernels are classed by the roofline of the GPU's spec (FLOP time at peak vs byte
// time at peak bandwidth): compute-bound time stretches when a power cap lowers the clock, memory-bound
// time barely does. The rest of `seconds` (host/framework time, launch gaps) is neither.
struct IterationCost {
  double seconds = 0;        // the iteration, all of it (what IterationTime returns)
  double compute_s = 0;      // in compute-bound kernels (GEMMs of many tokens, prefill attention)
  double memory_s = 0;       // in memory-bound kernels (decode GEMMs and attention, norms, activations)
  double comm_s = 0;         // in collectives
  double flops = 0;          // per GPU
  double hbm_bytes = 0;      // per GPU, read + written
  double link_bytes = 0;     // per GPU, sent over the intra-node fabric
  bool activity_known = false;  // false: the model only knows the time (constant, measured tables)
};

class PerfModel {
 public:
  virtual ~PerfModel() = default;
  // The iteration with what the GPU does in it. Models that only know the time leave the activity empty.
  virtual IterationCost Cost(std::span<const SeqWork> batch) const {
    IterationCost c;
    c.seconds = IterationTime(batch);
    return c;
  }
  // Seconds one iteration over `batch` takes on the replica (all tensor-parallel ranks, including their
  // collectives and the per-iteration overhead). `batch` is non-empty; the call must be cheap (it runs
  // once per simulated iteration) and deterministic.
  virtual double IterationTime(std::span<const SeqWork> batch) const = 0;
  // What the model is, for reports: e.g. "spec roofline".
  virtual std::string Label() const = 0;
};

// The `perf_model:` section of a scenario.
struct PerfModelSpec {
  // "roofline" (spec sheet), "calibrated" (operator model with the GPUs' calibration profiles), or
  // "constant" (a fixed time per iteration, for what-ifs and queueing checks), or "measured" (Splitwise's
  // end-to-end measurements interpolated, models/measured_perf_model.h).
  std::string type = "calibrated";
  std::string profile_dir;           // "calibrated": the folder of <GPU>.yaml profiles (a serving stack's, or perf_model.profiles)
  std::string serving_stack;         // "calibrated": the stack's name ("custom" for perf_model.profiles)
  std::string serving_stack_note;    // how it was chosen, for reports
  bool serving_stack_by_default = false;  // chosen by the default rule (the scenario named none)
  double constant_iteration_s = 0.01;  // "constant": seconds per iteration, whatever the batch
  std::string measured_table;        // "measured": Splitwise's perf-model CSV
  std::string measured_hardware;     // "measured": its hardware column to replay ("h100-80gb")
  double compute_efficiency = 0.6;   // share of the spec-sheet dense peak that GEMMs reach
  double memory_efficiency = 0.8;    // share of the spec-sheet HBM bandwidth that streaming kernels reach
  double iteration_overhead_s = 0.004;  // scheduler + launch + sampling time per iteration
  double collective_latency_s = 8e-6;   // per-step latency of a ring collective (alpha)
};

struct GpuProfile;

// What a replica's perf model is built for.
struct ReplicaHardware {
  const LlmSpec* llm = nullptr;
  const GpuSpec* gpu = nullptr;
  const NodeSpec* node = nullptr;  // the node type the replica's GPUs sit in (its intra-node fabric)
  int tensor_parallel = 1;
  const GpuProfile* profile = nullptr;  // "calibrated": the GPU's calibration profile
  // A TP group that spans nodes runs its collectives over the slowest link it spans (sim/platform/tp_link.h):
  // per-GPU GB/s one direction, and the latency each collective step adds. 0: inside one node, over
  // `node`'s intra-node fabric.
  double tp_link_gbps = 0;
  double tp_link_latency_s = 0;
};

absl::StatusOr<std::unique_ptr<PerfModel>> MakePerfModel(const PerfModelSpec& spec, const ReplicaHardware& hw);

}  // namespace gpufleet
