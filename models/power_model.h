// GPU power: idle power, plus while an iteration runs an activity power (clock tree, SMs and fabric awake;
// proportional to the clock) and dynamic energy per operation — per dense FLOP (scaling with the clock), per
// HBM byte and per byte sent over the intra-node link — drawn from the perf model's own account of the
// iteration (perf_model.h, IterationCost). A power limit (the GPU's TDP unless the deployment sets a lower
// `power_limit_w`) is met the way the GPU meets it: by lowering the clock, which stretches the compute-bound
// part of the iteration and leaves the memory-bound part as it was until the clock falls below the knee
// where the SMs can no longer keep HBM busy, until the iteration's mean power is at the limit.
//
// Parameters are "derived" from the spec sheet (DerivedPowerParams) until a GPU is fitted to measured
// power; every report names which (PowerParamsLabel).
#pragma once

#include <string>

#include "models/catalog.h"
#include "models/perf_model.h"

namespace gpufleet {

struct GpuPowerParams {
  std::string gpu;
  double idle_w = 0;             // no iteration in flight
  double active_w = 0;           // added while an iteration runs, whatever it does
  double pj_per_flop = 0;        // dense FLOP at the boost clock
  double pj_per_hbm_byte = 0;    // HBM read or written
  double pj_per_link_byte = 0;   // sent over NVLink/PCIe to tensor-parallel peers
  // Energy per FLOP scales as clock^this: voltage falls with the clock (0 would be a fixed voltage).
  double flop_energy_clock_exponent = 0.5;
  // Memory-bound kernels keep their time down to this clock (relative to boost) and stretch as knee/clock
  // below it (on an H200, one-token GEMMs and decode attention lose <= 5% down to ~350 W, then slow).
  double memory_clock_knee = 0.4;
  double min_clock_scale = 0.05;  // the lowest clock a limit can force, relative to boost
  double tdp_w = 0;              // the default power limit
  std::string status;            // "derived" (from the spec sheet) or "fitted" (to measured power)
  std::string source;            // how the numbers were obtained
};

// From the spec sheet: a GEMM at 70% of dense peak draws the TDP, a memory stream at 90% of the HBM
// bandwidth 60% of it, and activity power is 15% of TDP. A starting point, labelled "derived".
GpuPowerParams DerivedPowerParams(const GpuSpec& gpu);

struct PoweredIteration {
  double seconds = 0;       // the iteration at the clock the limit allows
  double energy_j = 0;      // one GPU, idle power included
  double power_w = 0;       // its mean over the iteration
  double clock_scale = 1;   // relative to the clock at the default limit: < 1 when `limit_w` slowed it
};

// One iteration under `limit_w` (0 or >= TDP: the GPU's default limit, its TDP). The perf model's time is
// taken as the time at the clock the TDP allows (it is calibrated on GPUs at their default limit): the
// default limit bounds the power, a lower one also slows the iteration. Unknown activity (constant or
// measured-table perf models) draws activity power plus half the dynamic range, and no limit slows it.
PoweredIteration PowerIteration(const IterationCost& cost, const GpuPowerParams& p, double limit_w);

// "derived from spec (...)" or "fitted (...)", for reports.
std::string PowerParamsLabel(const GpuPowerParams& p);

}  // namespace gpufleet
