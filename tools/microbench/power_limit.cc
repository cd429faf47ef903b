// Power-limit sweep with guaranteed restore (see power_limit.h).
#include "tools/microbench/power_limit.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"

namespace gpufleet::microbench {
namespace {

std::atomic<PowerLimitGuard*> g_active{nullptr};

}  // namespace

PowerLimitGuard::PowerLimitGuard(const Nvml* nvml, std::vector<NvmlDevice> devices)
    : nvml_(nvml), devices_(std::move(devices)) {
  g_active.store(this);
}

PowerLimitGuard::~PowerLimitGuard() {
  (void)Restore();
  PowerLimitGuard* self = this;
  g_active.compare_exchange_strong(self, nullptr);
}

absl::Status PowerLimitGuard::CheckCanSet(const std::vector<double>& watts) const {
  if (nvml_ == nullptr) {
    return absl::FailedPreconditionError(
        "--power-limits needs NVML (libnvidia-ml.so.1, part of the NVIDIA driver), which could not be loaded");
  }
  if (geteuid() != 0) {
    return absl::PermissionDeniedError(
        "--power-limits needs root: NVML only lets root change the power limit; run as root or with sudo, or drop "
        "--power-limits");
  }
  for (NvmlDevice d : devices_) {
    auto range = nvml_->PowerLimitRangeWatts(d);
    if (!range.ok()) continue;  // older NVML: the driver rejects out-of-range values at Set
    for (double w : watts) {
      if (w < range->first - 0.5 || w > range->second + 0.5) {
        std::string name = nvml_->Name(d).value_or("GPU");
        return absl::InvalidArgumentError(absl::StrCat("power limit ", w, " W is outside ", name, "'s settable range; expected ",
                                                       range->first, "..", range->second, " W"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status PowerLimitGuard::Set(double watts) {
  if (nvml_ == nullptr) return CheckCanSet({watts});
  if (original_w_.empty()) {
    for (NvmlDevice d : devices_) {
      absl::StatusOr<double> w = nvml_->PowerLimitWatts(d);
      if (!w.ok()) {
        original_w_.clear();
        return w.status();
      }
      original_w_.push_back(*w);
    }
  }
  for (NvmlDevice d : devices_) {
    if (absl::Status s = nvml_->SetPowerLimitWatts(d, watts); !s.ok()) {
      (void)Restore();
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status PowerLimitGuard::Restore() {
  absl::Status first;
  if (nvml_ == nullptr || original_w_.empty()) return first;
  for (size_t i = 0; i < devices_.size() && i < original_w_.size(); ++i) {
    absl::Status s = nvml_->SetPowerLimitWatts(devices_[i], original_w_[i]);
    if (!s.ok() && first.ok()) first = s;
  }
  original_w_.clear();
  return first;
}

void PowerLimitGuard::EmergencyRestore() {
  if (PowerLimitGuard* g = g_active.load()) (void)g->Restore();
}

}  // namespace gpufleet::microbench
