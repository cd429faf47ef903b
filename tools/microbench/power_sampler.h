// Samples board power and SM clock through NVML on a background thread while a measurement runs
// (~every 10 ms), and reports their means. Without NVML it reports nothing and the CSV fields stay empty.
// Note: on recent GPUs NVML's power reading is itself averaged over up to ~1 s, so short measurements
// see a lagged value.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tools/microbench/nvml.h"

namespace gpufleet::microbench {

struct PowerReading {
  std::optional<double> mean_power_w;  // mean over polls of the per-GPU mean power
  std::optional<double> sm_clock_mhz;  // mean over polls of the per-GPU mean SM clock
  int64_t polls = 0;
};

class PowerSampler {
 public:
  // `nvml` may be null (no sampling); it must outlive the sampler.
  PowerSampler(const Nvml* nvml, std::vector<NvmlDevice> devices,
               std::chrono::milliseconds period = std::chrono::milliseconds(10));
  ~PowerSampler();
  PowerSampler(const PowerSampler&) = delete;
  PowerSampler& operator=(const PowerSampler&) = delete;

  bool enabled() const { return nvml_ != nullptr && !devices_.empty(); }
  // Starts polling (one poll immediately). Calling Start while running restarts the averages.
  void Start();
  // Stops polling and returns the means since Start (one extra poll when none happened).
  PowerReading Stop();

 private:
  void Poll();
  void Loop();

  const Nvml* nvml_;
  std::vector<NvmlDevice> devices_;
  std::chrono::milliseconds period_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  double power_sum_ = 0;
  int64_t power_polls_ = 0;
  double clock_sum_ = 0;
  int64_t clock_polls_ = 0;
};

}  // namespace gpufleet::microbench
