// The progress line a long run shows on a terminal: simulated time, requests done, ETA.
//
// Only on a TTY (stderr) and only once the run has lasted a second; never in --json output. Cheap to call
// from the hot loop: it looks at the wall clock once every 1024 ticks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace gpufleet {

class ProgressMeter {
 public:
  // `fraction` returns the share of the workload consumed so far in [0,1], or < 0 when unknown.
  ProgressMeter(bool enabled, std::function<double()> fraction);
  void Tick(double sim_time_s, int64_t requests_done);
  void Finish();

 private:
  bool enabled_;
  std::function<double()> fraction_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  uint32_t ticks_ = 0;
  bool printed_ = false;
};

}  // namespace gpufleet
