// Run-time binding to NVML (see nvml.h). Signatures follow nvml.h of the NVIDIA driver; the return code
// is nvmlReturn_t (0 = success, 4 = no permission), power in milliwatts, clocks in MHz.
#include "tools/microbench/nvml.h"

#include <dlfcn.h>

#include "absl/strings/str_cat.h"

namespace gpufleet::microbench {
namespace {

constexpr int kNvmlSuccess = 0;
constexpr int kNvmlErrorNotSupported = 3;
constexpr int kNvmlErrorNoPermission = 4;
constexpr int kNvmlErrorFunctionNotFound = 13;
constexpr int kNvmlClockSm = 1;  // NVML_CLOCK_SM
constexpr unsigned kNameLength = 96;

}  // namespace

struct Nvml::Api {
  int (*init_v2)() = nullptr;
  int (*shutdown)() = nullptr;
  const char* (*error_string)(int) = nullptr;
  int (*get_handle_by_index_v2)(unsigned, NvmlDevice*) = nullptr;
  int (*get_handle_by_pci_bus_id_v2)(const char*, NvmlDevice*) = nullptr;  // optional
  int (*get_power_usage)(NvmlDevice, unsigned*) = nullptr;
  int (*get_clock_info)(NvmlDevice, int, unsigned*) = nullptr;
  int (*get_power_management_limit)(NvmlDevice, unsigned*) = nullptr;
  int (*get_power_management_limit_constraints)(NvmlDevice, unsigned*, unsigned*) = nullptr;  // optional
  int (*set_power_management_limit)(NvmlDevice, unsigned) = nullptr;
  int (*get_name)(NvmlDevice, char*, unsigned) = nullptr;
  int (*system_get_driver_version)(char*, unsigned) = nullptr;
  int (*get_total_energy)(NvmlDevice, unsigned long long*) = nullptr;  // optional (Volta+)
  int (*get_clock_event_reasons)(NvmlDevice, unsigned long long*) = nullptr;  // optional
  int (*get_default_power_limit)(NvmlDevice, unsigned*) = nullptr;  // optional
};

absl::StatusOr<std::unique_ptr<Nvml>> Nvml::Load(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::UnavailableError(absl::StrCat("NVML not available (", err ? err : library,
                                               "); power and clock readings are left empty"));
  }
  auto api = std::make_unique<Api>();
  std::string missing;
  auto bind = [&](auto& fn, const char* symbol, bool required) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, symbol));
    if (fn == nullptr && required) absl::StrAppend(&missing, missing.empty() ? "" : ", ", symbol);
  };
  bind(api->init_v2, "nvmlInit_v2", true);
  bind(api->shutdown, "nvmlShutdown", true);
  bind(api->error_string, "nvmlErrorString", false);
  bind(api->get_handle_by_index_v2, "nvmlDeviceGetHandleByIndex_v2", true);
  bind(api->get_handle_by_pci_bus_id_v2, "nvmlDeviceGetHandleByPciBusId_v2", false);
  bind(api->get_power_usage, "nvmlDeviceGetPowerUsage", true);
  bind(api->get_clock_info, "nvmlDeviceGetClockInfo", true);
  bind(api->get_power_management_limit, "nvmlDeviceGetPowerManagementLimit", true);
  bind(api->get_power_management_limit_constraints, "nvmlDeviceGetPowerManagementLimitConstraints", false);
  bind(api->set_power_management_limit, "nvmlDeviceSetPowerManagementLimit", true);
  bind(api->get_name, "nvmlDeviceGetName", true);
  bind(api->system_get_driver_version, "nvmlSystemGetDriverVersion", true);
  bind(api->get_total_energy, "nvmlDeviceGetTotalEnergyConsumption", false);
  bind(api->get_default_power_limit, "nvmlDeviceGetPowerManagementDefaultLimit", false);
  // Renamed from "throttle" to "clocks event" reasons in driver 535; same signature and bits.
  bind(api->get_clock_event_reasons, "nvmlDeviceGetCurrentClocksEventReasons", false);
  if (api->get_clock_event_reasons == nullptr) {
    bind(api->get_clock_event_reasons, "nvmlDeviceGetCurrentClocksThrottleReasons", false);
  }
  if (!missing.empty()) {
    dlclose(handle);
    return absl::UnavailableError(absl::StrCat(library, " lacks ", missing, "; power readings disabled"));
  }
  const int rc = api->init_v2();
  if (rc != kNvmlSuccess) {
    const char* msg = api->error_string ? api->error_string(rc) : "error";
    dlclose(handle);
    return absl::UnavailableError(absl::StrCat("nvmlInit_v2 failed: ", msg, " (", rc, ")"));
  }
  return std::unique_ptr<Nvml>(new Nvml(handle, std::move(api)));
}

Nvml::Nvml(void* handle, std::unique_ptr<Api> api) : handle_(handle), api_(std::move(api)) {}

Nvml::~Nvml() {
  if (api_ && api_->shutdown) api_->shutdown();
  if (handle_) dlclose(handle_);
}

absl::Status Nvml::Check(int rc, const char* call) const {
  if (rc == kNvmlSuccess) return absl::OkStatus();
  const std::string msg = absl::StrCat(call, ": ", api_->error_string ? api_->error_string(rc) : "error", " (", rc, ")");
  if (rc == kNvmlErrorNoPermission) return absl::PermissionDeniedError(msg);
  if (rc == kNvmlErrorNotSupported || rc == kNvmlErrorFunctionNotFound) return absl::UnimplementedError(msg);
  return absl::InternalError(msg);
}

absl::StatusOr<NvmlDevice> Nvml::DeviceByIndex(unsigned index) const {
  NvmlDevice d = nullptr;
  if (absl::Status s = Check(api_->get_handle_by_index_v2(index, &d), "nvmlDeviceGetHandleByIndex_v2"); !s.ok()) {
    return s;
  }
  return d;
}

absl::StatusOr<NvmlDevice> Nvml::DeviceByPciBusId(const std::string& bus_id, unsigned index) const {
  if (api_->get_handle_by_pci_bus_id_v2 != nullptr && !bus_id.empty()) {
    NvmlDevice d = nullptr;
    if (api_->get_handle_by_pci_bus_id_v2(bus_id.c_str(), &d) == kNvmlSuccess) return d;
  }
  return DeviceByIndex(index);
}

absl::StatusOr<double> Nvml::PowerWatts(NvmlDevice d) const {
  unsigned mw = 0;
  if (absl::Status s = Check(api_->get_power_usage(d, &mw), "nvmlDeviceGetPowerUsage"); !s.ok()) return s;
  return mw / 1000.0;
}

absl::StatusOr<double> Nvml::SmClockMhz(NvmlDevice d) const {
  unsigned mhz = 0;
  if (absl::Status s = Check(api_->get_clock_info(d, kNvmlClockSm, &mhz), "nvmlDeviceGetClockInfo"); !s.ok()) return s;
  return static_cast<double>(mhz);
}

absl::StatusOr<double> Nvml::TotalEnergyJoules(NvmlDevice d) const {
  if (api_->get_total_energy == nullptr) {
    return absl::UnimplementedError("nvmlDeviceGetTotalEnergyConsumption is not in this NVML");
  }
  unsigned long long mj = 0;
  if (absl::Status s = Check(api_->get_total_energy(d, &mj), "nvmlDeviceGetTotalEnergyConsumption"); !s.ok()) {
    return s;
  }
  return static_cast<double>(mj) / 1000.0;
}

absl::StatusOr<uint64_t> Nvml::ClockEventReasons(NvmlDevice d) const {
  if (api_->get_clock_event_reasons == nullptr) {
    return absl::UnimplementedError("nvmlDeviceGetCurrentClocksEventReasons is not in this NVML");
  }
  unsigned long long mask = 0;
  if (absl::Status s = Check(api_->get_clock_event_reasons(d, &mask), "nvmlDeviceGetCurrentClocksEventReasons");
      !s.ok()) {
    return s;
  }
  return static_cast<uint64_t>(mask);
}

absl::StatusOr<double> Nvml::PowerLimitWatts(NvmlDevice d) const {
  unsigned mw = 0;
  if (absl::Status s = Check(api_->get_power_management_limit(d, &mw), "nvmlDeviceGetPowerManagementLimit"); !s.ok()) {
    return s;
  }
  return mw / 1000.0;
}

absl::StatusOr<double> Nvml::DefaultPowerLimitWatts(NvmlDevice d) const {
  if (api_->get_default_power_limit == nullptr) {
    return absl::UnimplementedError("nvmlDeviceGetPowerManagementDefaultLimit is not in this NVML");
  }
  unsigned mw = 0;
  if (absl::Status s = Check(api_->get_default_power_limit(d, &mw), "nvmlDeviceGetPowerManagementDefaultLimit");
      !s.ok()) {
    return s;
  }
  return mw / 1000.0;
}

absl::StatusOr<std::pair<double, double>> Nvml::PowerLimitRangeWatts(NvmlDevice d) const {
  if (api_->get_power_management_limit_constraints == nullptr) {
    return absl::UnimplementedError("nvmlDeviceGetPowerManagementLimitConstraints is not in this NVML");
  }
  unsigned lo = 0, hi = 0;
  if (absl::Status s = Check(api_->get_power_management_limit_constraints(d, &lo, &hi),
                             "nvmlDeviceGetPowerManagementLimitConstraints");
      !s.ok()) {
    return s;
  }
  return std::pair<double, double>(lo / 1000.0, hi / 1000.0);
}

absl::Status Nvml::SetPowerLimitWatts(NvmlDevice d, double watts) const {
  const int rc = api_->set_power_management_limit(d, static_cast<unsigned>(watts * 1000.0 + 0.5));
  absl::Status s = Check(rc, "nvmlDeviceSetPowerManagementLimit");
  if (s.code() == absl::StatusCode::kPermissionDenied) {
    return absl::PermissionDeniedError(absl::StrCat(
        "setting the GPU power limit needs root (", s.message(), "); run as root or with sudo, or drop --power-limits"));
  }
  return s;
}

absl::StatusOr<std::string> Nvml::Name(NvmlDevice d) const {
  char buf[kNameLength] = {};
  if (absl::Status s = Check(api_->get_name(d, buf, kNameLength), "nvmlDeviceGetName"); !s.ok()) return s;
  return std::string(buf);
}

absl::StatusOr<std::string> Nvml::DriverVersion() const {
  char buf[kNameLength] = {};
  if (absl::Status s = Check(api_->system_get_driver_version(buf, kNameLength), "nvmlSystemGetDriverVersion"); !s.ok()) {
    return s;
  }
  return std::string(buf);
}

}  // namespace gpufleet::microbench
