// The CUDA side's basics: which GPUs are visible, CUDA errors as absl::Status, and RAII device / pinned
// host buffers that grow on demand (refilled with random data when they grow or change dtype).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/microbench/device_kernels.h"

namespace gpufleet::microbench {

// OK for cudaSuccess; ResourceExhausted for out-of-memory; Internal otherwise. Clears a non-sticky error.
absl::Status CudaStatus(cudaError_t err, const char* what);
#define GF_CUDA_RETURN_IF_ERROR(expr)                                          \
  do {                                                                         \
    ::absl::Status gf_cuda_status_ = ::gpufleet::microbench::CudaStatus((expr), #expr); \
    if (!gf_cuda_status_.ok()) return gf_cuda_status_;                         \
  } while (0)

struct GpuInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int64_t total_memory = 0;
  int sm_count = 0;
  int64_t l2_bytes = 0;  // cudaDevAttrL2CacheSize: sizes the cold-operand rotation (cache_rotation.h)
  std::string pci_bus_id;  // "0000:3B:00.0"
  bool fp8() const { return cc_major * 10 + cc_minor >= 89; }  // Ada and Hopper onwards
};

// The visible GPUs; NotFound("no CUDA GPU found (...)") when there are none or no driver.
absl::StatusOr<std::vector<GpuInfo>> ListGpus();
std::string CudaRuntimeVersion();  // "13.0"
std::string CudaDriverVersion();   // "13.0" (the CUDA version the driver supports)

// Runs this process on the CPUs of the GPU's NUMA node (its PCI device's local_cpulist), so pinned host
// buffers, allocated and first touched from here, live in memory local to the GPU as a serving process
// bound to its GPU would have them. Returns what was done, for the CSV's comments; failures (no sysfs
// entry, a container that forbids it) are reported, not fatal.
std::string BindToGpuLocalCpus(const GpuInfo& gpu);

// After a failed measurement: true when the CUDA context is unusable (a sticky error such as an illegal
// address), so the run must stop.
bool CudaContextBroken(int device);

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  // At least `bytes` on the current device; contents unspecified from now on (the caller writes them).
  absl::Status Reserve(size_t bytes);
  // At least `count` elements of `type` holding random values in [-scale, scale).
  absl::Status ReserveRandom(size_t count, FillType type, cudaStream_t stream, float scale = 1.0f);
  void Release();
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  absl::Status Grow(size_t bytes);

  void* data_ = nullptr;
  size_t bytes_ = 0;
  size_t filled_count_ = 0;
  int filled_type_ = -1;
};

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  absl::Status Reserve(size_t bytes);  // page-locked host memory (cudaMallocHost)
  void* data() const { return data_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace gpufleet::microbench
