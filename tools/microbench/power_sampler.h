// Power, clocks and clock-event (throttle) reasons while a measurement runs. Power comes from NVML's
// total-energy counter, polled every few milliseconds: the counter advances in steps (on the H200 measured
// here, coarse enough that the plain difference over a 200-300 ms window read up to 45% high), so power is
// the slope between the first and the last step seen in the window, which does not depend on where the
// window starts or ends between steps (EnergySlope). The instantaneous power reading is a ~1 s average on
// H100-class GPUs, so it is only the fallback where the counter is missing, and only for windows of 1 s or
// more. Windows that see too little of the counter report no power at all. The same thread polls the SM
// clock and ORs the clock-event reasons. Without NVML every field stays empty.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/microbench/nvml.h"

namespace gpufleet::microbench {

struct PowerReading {
  std::optional<double> mean_power_w;  // per-GPU mean power over the window
  std::optional<double> energy_j;      // per-GPU energy over the window (counter), when available
  std::optional<double> sm_clock_mhz;  // mean over polls of the per-GPU mean SM clock
  std::optional<uint64_t> clock_events;  // OR of the reasons seen at every poll on every GPU
  double window_s = 0;
  int64_t polls = 0;
};

// Power from an energy counter that advances in steps, read at increasing times: the energy between the
// first and the last change seen, over the time between them. Nothing when fewer than two changes were
// seen, they are less than `min_span_s` apart, or the counter went backwards (driver reload).
class EnergySlope {
 public:
  void Add(double t_s, double joules);
  std::optional<double> Watts(double min_span_s) const;

 private:
  bool have_last_ = false, backwards_ = false;
  double last_j_ = 0;
  int changes_ = 0;
  double first_t_ = 0, first_j_ = 0, change_t_ = 0, change_j_ = 0;
};

// NVML's clock-event reason bits as names joined by '|' ("sw_power_cap|hw_slowdown"); "none" for 0;
// unknown bits as hex. GPU idle and the applications-clocks setting are reported too: the reader decides.
std::string ClockEventNames(uint64_t mask);

class PowerSampler {
 public:
  // `nvml` may be null (no sampling); it must outlive the sampler.
  PowerSampler(const Nvml* nvml, std::vector<NvmlDevice> devices,
               std::chrono::milliseconds period = std::chrono::milliseconds(5));
  ~PowerSampler();
  PowerSampler(const PowerSampler&) = delete;
  PowerSampler& operator=(const PowerSampler&) = delete;

  bool enabled() const { return nvml_ != nullptr && !devices_.empty(); }
  void set_min_power_window(double seconds) { min_power_window_s_ = seconds; }
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
  uint64_t clock_events_ = 0;
  bool have_clock_events_ = false;
  std::vector<EnergySlope> energy_;  // per device; empty when a device lacks the counter
  std::chrono::steady_clock::time_point start_;
  double min_power_window_s_ = 0.1;
};

}  // namespace gpufleet::microbench
