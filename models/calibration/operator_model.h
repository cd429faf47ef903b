// Kernel times from a calibration profile and the GPU's spec sheet: the operator-level model.
//
// Each function is the profile's fitted efficiency curve applied to the catalog's peaks; a power cap or
// clock change enters as `clock_scale` on the compute peak (1 = the catalog's boost clock).
#pragma once

#include "models/calibration/gpu_profile.h"
#include "models/catalog.h"

namespace gpufleet {

// The share of a working set of `bytes` served from a last-level cache of `cache_bytes` (0: no cache).
double CacheResidency(double bytes, double cache_bytes);
// The memory-bound kernel equation alone (shared by the model and its fitting). `rows` 0: a flat stream
// with no wave floor (a copy kernel).
double StreamTime(const StreamParams& s, double rows, double bytes, double hbm_bytes_per_s, double cache_bytes,
                  int sm_count);

class OperatorModel {
 public:
  // `link_latency_s` is added to every step of a collective: a TP group's scale-out hops when it spans
  // nodes (the profile's step latency is the intra-node fabric's).
  OperatorModel(const GpuProfile& profile, const GpuSpec& gpu, double link_gbps, double clock_scale = 1.0,
                double link_latency_s = 0);

  // fp16/bf16 GEMM C[m x n] = A[m x k] B[k x n] of projection `kind`. `compute_scale` multiplies the
  // compute peak for this call (sustained-load clocks), on top of the constructor's clock scale. A shape
  // the profile has a measured correction for uses it instead of the projection factor.
  double Gemm(GemmKind kind, double m, double n, double k, double compute_scale = 1.0) const;
  // A memory-bound kernel of `kind` (one of StreamKinds()) over `rows` tokens, moving `bytes`.
  double Stream(const std::string& kind, double rows, double bytes) const;
  // Flash-attention prefill: `flops` of QK^T and PV, reading `kv_bytes` of keys and values.
  double AttentionPrefill(double flops, double kv_bytes, double compute_scale = 1.0) const;
  // Paged decode attention reading `kv_bytes`.
  double AttentionDecode(double kv_bytes) const;
  // Ring all-reduce of `bytes` over `ranks` GPUs on the TP group's link.
  double AllReduce(double bytes, int ranks) const;

  const GpuProfile& profile() const { return profile_; }

 private:
  // The GEMM equation with efficiency factor `factor` (a projection's, or 1).
  double GemmEquation(double factor, double m, double n, double k, double compute_scale) const;

  GpuProfile profile_;
  double peak_flops_;
  double hbm_bytes_per_s_;
  double cache_bytes_;
  int sm_count_;
  double link_bytes_per_s_;
  double link_latency_s_;
};

}  // namespace gpufleet
