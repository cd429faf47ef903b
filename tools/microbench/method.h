// The measurement method's knobs, shared by the runner (which applies them) and the duration estimate
// (which predicts their cost): warm-up, how many back-to-back calls make one timed sample, and the
// stopping rule of stats.h.
#pragma once

#include <cstdint>

#include "tools/microbench/stats.h"

namespace gpufleet::microbench {

struct MethodOptions {
  StopRule stop;
  // Warm-up before timing: at least this many calls and this much GPU time (clocks ramp, caches, lazy
  // library initialisation).
  int64_t warmup_min_calls = 3;
  double warmup_seconds = 0.005;
  // One timed sample is `inner` back-to-back calls between two CUDA events, divided by `inner`; `inner`
  // is chosen so a sample lasts about this long, which keeps event resolution (~0.5 us) negligible.
  double target_sample_seconds = 100e-6;
  int64_t max_inner = 1000;
  // Back-to-back launches in one sample of the `launch` op.
  int64_t launch_calls_per_sample = 1000;
};

}  // namespace gpufleet::microbench
