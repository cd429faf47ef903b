// NVML (NVIDIA Management Library) loaded at run time with dlopen, so that the suite needs no NVML header
// and still runs, without power readings, where the library is missing. Only the handful of entry points
// the suite uses are resolved; NVML's C types are mirrored by plain ints and an opaque handle.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace gpufleet::microbench {

using NvmlDevice = struct NvmlDeviceOpaque*;  // nvmlDevice_t

class Nvml {
 public:
  // dlopen(`library`), resolve the entry points, nvmlInit_v2. Unavailable when the library or a symbol
  // is missing or initialisation fails; the message says which.
  static absl::StatusOr<std::unique_ptr<Nvml>> Load(const std::string& library = "libnvidia-ml.so.1");
  ~Nvml();  // nvmlShutdown, dlclose
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // The device with this PCI bus id ("0000:3B:00.0", as cudaDeviceGetPCIBusId gives it), falling back to
  // NVML's index when the bus id lookup is unavailable.
  absl::StatusOr<NvmlDevice> DeviceByPciBusId(const std::string& bus_id, unsigned index) const;
  absl::StatusOr<NvmlDevice> DeviceByIndex(unsigned index) const;

  absl::StatusOr<double> PowerWatts(NvmlDevice d) const;        // board power draw
  absl::StatusOr<double> SmClockMhz(NvmlDevice d) const;        // current SM clock
  absl::StatusOr<double> PowerLimitWatts(NvmlDevice d) const;   // power management limit in force
  // The limit the GPU boots with; Unimplemented when this NVML lacks the call.
  absl::StatusOr<double> DefaultPowerLimitWatts(NvmlDevice d) const;
  // Energy since the driver loaded (Volta and newer); Unimplemented when this NVML or GPU lacks it.
  absl::StatusOr<double> TotalEnergyJoules(NvmlDevice d) const;
  // Why clocks are below their maximum now: NVML's clocks event (throttle) reason bits.
  absl::StatusOr<uint64_t> ClockEventReasons(NvmlDevice d) const;
  // Settable range; Unimplemented when this NVML lacks the call.
  absl::StatusOr<std::pair<double, double>> PowerLimitRangeWatts(NvmlDevice d) const;
  // PermissionDenied (with how to fix it) when NVML refuses for lack of privileges.
  absl::Status SetPowerLimitWatts(NvmlDevice d, double watts) const;
  absl::StatusOr<std::string> Name(NvmlDevice d) const;
  absl::StatusOr<std::string> DriverVersion() const;

 private:
  struct Api;
  Nvml(void* handle, std::unique_ptr<Api> api);
  absl::Status Check(int rc, const char* call) const;

  void* handle_ = nullptr;
  std::unique_ptr<Api> api_;
};

}  // namespace gpufleet::microbench
