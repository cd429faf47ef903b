// The calibrated performance model: a transformer iteration as the sum of its kernels, each timed by the
// operator model of the GPU's calibration profile (models/calibration/). Labelled with the profile's
// status, so a report built on an uncalibrated (derived) profile says so.
//
// Most of an iteration's time depends on the batch's token count alone (the GEMMs at the clock that much
// work sustains, the memory-bound kernels); those terms are computed once per count and kept, which makes
// the model several times cheaper per iteration with the same results to the bit. The cache makes Cost
// unsafe to call from two threads at once; replicas of one deployment group share one model.
#pragma once

#include <cstdint>

#include "absl/container/flat_hash_map.h"

#include "models/calibration/operator_model.h"
#include "models/perf_model.h"
#include "models/sharded_shape.h"

namespace gpufleet {

// Per-iteration kernel times of one replica, split by kind (for validation reports and tests).
struct IterationBreakdown {
  double gemm_s = 0, attention_s = 0, stream_s = 0, allreduce_s = 0, lm_head_s = 0, framework_s = 0;
  IterationCost activity;  // compute/memory/comm split and counts, per GPU (seconds left 0 here)
  double gpu_s() const { return gemm_s + attention_s + stream_s + allreduce_s + lm_head_s; }
  double total() const { return gpu_s() + framework_s; }
};

class CalibratedPerfModel final : public PerfModel {
 public:
  // `clock_scale` < 1 models a lower SM clock (a power cap) on top of the profile's own scaling.
  CalibratedPerfModel(const GpuProfile& profile, const ReplicaHardware& hw, double clock_scale = 1.0);
  double IterationTime(std::span<const SeqWork> batch) const override { return Breakdown(batch).total(); }
  IterationCost Cost(std::span<const SeqWork> batch) const override;
  std::string Label() const override;
  IterationBreakdown Breakdown(std::span<const SeqWork> batch) const;

 private:
  // The token-count terms, kept per count seen (a hash map: a model built for a handful of calls, as
  // the calibration fits build them, pays for what it uses only).
  struct TokenTerms {
    double compute_scale = 1;   // sustained-load clock scale for this much GEMM work
    double gemm_s = 0;          // all layers' projections
    double stream_s = 0, stream_bytes = 0;  // memory-bound kernels (norms, rotary, activation, adds, embedding)
    IterationCost gemm_activity;  // the projections' FLOPs, bytes and compute/memory split
  };
  const TokenTerms& Terms(double tokens) const;  // valid until the next call
  void Book(IterationCost* act, double t, double flops, double bytes, double times) const;

  OperatorModel ops_;
  ShardedShape s_;
  double peak_flops_ = 0, peak_bytes_per_s_ = 0;  // the spec's, for classing kernels
  mutable absl::flat_hash_map<int64_t, TokenTerms> by_tokens_;
};

}  // namespace gpufleet
