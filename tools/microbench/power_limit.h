// Sets GPU power limits for a --power-limits sweep and always puts the original limits back: on Restore,
// in the destructor, and from the interrupt handler's emergency path (interrupt.h). Refuses up front, with
// a message saying how to fix it, when the process is not root or NVML is missing.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "tools/microbench/nvml.h"

namespace gpufleet::microbench {

class PowerLimitGuard {
 public:
  // `nvml` may be null: every Set then fails with FailedPrecondition. `nvml` must outlive the guard.
  PowerLimitGuard(const Nvml* nvml, std::vector<NvmlDevice> devices);
  ~PowerLimitGuard();  // Restore()
  PowerLimitGuard(const PowerLimitGuard&) = delete;
  PowerLimitGuard& operator=(const PowerLimitGuard&) = delete;

  // Checks, before anything is measured, that every limit can be set: NVML present, running as root,
  // each limit inside every device's settable range. Changes nothing.
  absl::Status CheckCanSet(const std::vector<double>& watts) const;
  // Sets `watts` on every device, remembering each device's original limit the first time.
  absl::Status Set(double watts);
  // Puts the original limits back (no-op when nothing was set). Returns the first failure.
  absl::Status Restore();

  // For the interrupt handler: restores the most recently constructed active guard, best effort.
  static void EmergencyRestore();

 private:
  const Nvml* nvml_;
  std::vector<NvmlDevice> devices_;
  std::vector<double> original_w_;  // empty until the first Set
};

}  // namespace gpufleet::microbench
