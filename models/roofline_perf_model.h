// The spec roofline: iteration time from spec-sheet peaks, before any calibration.
//
// Each kernel of a transformer layer (QKV, output projection, MLP/expert GEMMs, attention, norms and
// elementwise ops) costs max(flops / achievable compute, bytes / achievable bandwidth); the layer adds the
// tensor-parallel all-reduces (ring, alpha-beta), the LM head runs once, and a fixed per-iteration
// overhead covers scheduling, launches and sampling. Achievable = spec peak x an efficiency from the
// scenario. It is labelled "spec roofline" in every report because it is not fitted to measurements.
#pragma once

#include "models/perf_model.h"
#include "models/sharded_shape.h"

namespace gpufleet {

class RooflinePerfModel final : public PerfModel {
 public:
  RooflinePerfModel(const PerfModelSpec& spec, const ReplicaHardware& hw);
  double IterationTime(std::span<const SeqWork> batch) const override { return Cost(batch).seconds; }
  IterationCost Cost(std::span<const SeqWork> batch) const override;
  std::string Label() const override { return "spec roofline"; }

  // Time of one GEMM of an M x K by K x N product on one GPU (exposed for tests).
  double GemmTime(double m, double n, double k) const;

 private:
  double flops_per_s_;       // achievable dense fp16 flop/s
  double bytes_per_s_;       // achievable HBM bytes/s
  double link_bytes_per_s_;  // one-direction per-GPU bandwidth to TP peers
  double overhead_s_;
  double alpha_s_;
  ShardedShape s_;
};

}  // namespace gpufleet
