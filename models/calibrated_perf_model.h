// The calibrated performance model: a transformer iteration as the sum of its kernels, each timed by the
// operator model of the GPU's calibration profile (models/calibration/). Labelled with the profile's
// status, so a report built on an uncalibrated (derived) profile says so.
#pragma once

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
  OperatorModel ops_;
  ShardedShape s_;
  double peak_flops_ = 0, peak_bytes_per_s_ = 0;  // the spec's, for classing kernels
};

}  // namespace gpufleet
