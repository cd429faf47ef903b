// GPU power, a placeholder until the power-model issue: a GPU draws its idle power when idle and its TDP
// while it runs an iteration. Reports name it (kPowerModelLabel) so no one mistakes it for a fitted model;
// energy figures from it are upper bounds for busy GPUs.
#pragma once

#include <string>

#include "models/catalog.h"

namespace gpufleet {

struct GpuEnergy {
  double joules = 0;
  double mean_power_w = 0;
};

inline constexpr const char* kPowerModelLabel = "placeholder: idle W when idle, TDP when busy";

// Energy of one GPU busy for `busy_s` out of `duration_s`.
inline GpuEnergy GpuEnergyOver(const GpuSpec& gpu, double busy_s, double duration_s) {
  GpuEnergy e;
  e.joules = busy_s * gpu.tdp_w + (duration_s - busy_s) * gpu.idle_w;
  e.mean_power_w = duration_s > 0 ? e.joules / duration_s : gpu.idle_w;
  return e;
}

}  // namespace gpufleet
