// The measurement method's knobs, shared by the runner (which applies them) and the duration estimate
// (which predicts their cost): warm-up, how many back-to-back calls make one timed sample, and the
// stopping rule of stats.h.
#pragma once

#include <cstdint>

#include "tools/microbench/stats.h"

namespace gpufleet::microbench {

// How calls are issued: captured into a CUDA graph and replayed (what a serving stack does for decode, and
// what isolates GPU time from host launch cost), or launched one by one from the host (the launch-bound
// figure, which for small kernels is max(CPU issue, GPU time)).
enum class TimingMode { kGraph, kLaunch };
inline const char* TimingModeName(TimingMode mode) { return mode == TimingMode::kGraph ? "graph" : "launch"; }

struct MethodOptions {
  StopRule stop;
  TimingMode timing = TimingMode::kGraph;
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
  // Compute-bound points (plan.h's Measurement::steady) keep sampling until the timed window lasts this
  // long, so clocks and power reach the sustained (possibly capped) state of continuous serving rather
  // than the first milliseconds' boost; 0 turns it off.
  double steady_window_seconds = 0.3;
  // Power is reported only for windows at least this long (NVML's energy counter has ~ms granularity and
  // its power reading is a ~1 s average on recent GPUs).
  double min_power_window_seconds = 0.1;
};

// Warm-up accounting (host-only, tested): warm up until both `method.warmup_min_calls` calls and
// `method.warmup_seconds` of event time have accumulated. Given what has accumulated and the latest
// per-call time, the number of calls to issue next (0: done). Batches grow geometrically and aim at the
// remaining time, so a point whose first (cold) call was slow still gets its full warm-up.
int64_t NextWarmupBatch(const MethodOptions& method, int64_t calls_done, double seconds_done, double last_call_seconds);

// Calls per sample: enough for `method.target_sample_seconds` at `call_seconds` each, at most
// `method.max_inner`, and in graph mode rounded up to a whole number of rotation cycles.
int64_t InnerCalls(const MethodOptions& method, double call_seconds, int64_t cycle, TimingMode mode);

}  // namespace gpufleet::microbench
