// GPU discovery, CUDA status conversion and buffers (see device.h).
#include "tools/microbench/device.h"

#include <sched.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include <cuda_runtime.h>

#include "absl/strings/str_cat.h"
#include "tools/microbench/cli_lists.h"

namespace gpufleet::microbench {

absl::Status CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return absl::OkStatus();
  (void)cudaGetLastError();  // clear it if it is not sticky
  const std::string msg = absl::StrCat(what, ": ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
  if (err == cudaErrorMemoryAllocation) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

absl::StatusOr<std::vector<GpuInfo>> ListGpus() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    return absl::NotFoundError(absl::StrCat("no CUDA GPU found (cudaGetDeviceCount: ",
                                            err == cudaSuccess ? "0 devices" : cudaGetErrorString(err), ")"));
  }
  std::vector<GpuInfo> gpus;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (absl::Status s = CudaStatus(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties"); !s.ok()) return s;
    GpuInfo g;
    g.index = i;
    g.name = prop.name;
    g.cc_major = prop.major;
    g.cc_minor = prop.minor;
    g.total_memory = static_cast<int64_t>(prop.totalGlobalMem);
    g.sm_count = prop.multiProcessorCount;
    g.l2_bytes = prop.l2CacheSize;
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof(bus), i) == cudaSuccess) g.pci_bus_id = bus;
    gpus.push_back(std::move(g));
  }
  return gpus;
}

namespace {
std::string VersionString(int v) { return absl::StrCat(v / 1000, ".", (v % 1000) / 10); }
}  // namespace

std::string CudaRuntimeVersion() {
  int v = 0;
  return cudaRuntimeGetVersion(&v) == cudaSuccess ? VersionString(v) : "unknown";
}

std::string CudaDriverVersion() {
  int v = 0;
  return cudaDriverGetVersion(&v) == cudaSuccess ? VersionString(v) : "unknown";
}

std::string BindToGpuLocalCpus(const GpuInfo& gpu) {
  std::string bus = gpu.pci_bus_id;
  for (char& c : bus) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string path = "/sys/bus/pci/devices/" + bus + "/local_cpulist";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && text.empty()) return "cpu binding: none (" + path + " unreadable)";
  absl::StatusOr<std::vector<int>> cpus = ParseCpuList(text);
  if (!cpus.ok()) return "cpu binding: none (" + path + ": " + std::string(cpus.status().message()) + ")";
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : *cpus) {
    if (c < CPU_SETSIZE) CPU_SET(c, &set);
  }
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return "cpu binding: none (sched_setaffinity: " + std::string(std::strerror(errno)) + ")";
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return "cpu binding: CPUs " + text + " (the GPU's NUMA node, from " + path + ")";
}

bool CudaContextBroken(int device) {
  (void)cudaGetLastError();
  if (cudaSetDevice(device) != cudaSuccess) return true;
  return cudaDeviceSynchronize() != cudaSuccess;
}

DeviceBuffer::~DeviceBuffer() { Release(); }

void DeviceBuffer::Release() {
  if (data_ != nullptr) cudaFree(data_);
  data_ = nullptr;
  bytes_ = 0;
  filled_count_ = 0;
  filled_type_ = -1;
}

absl::Status DeviceBuffer::Reserve(size_t bytes) {
  filled_type_ = -1;
  filled_count_ = 0;
  return Grow(bytes);
}

absl::Status DeviceBuffer::Grow(size_t bytes) {
  if (bytes <= bytes_) return absl::OkStatus();
  Release();
  if (absl::Status s = CudaStatus(cudaMalloc(&data_, bytes), "cudaMalloc"); !s.ok()) {
    data_ = nullptr;
    return absl::Status(s.code(), absl::StrCat(s.message(), " of ", bytes, " bytes"));
  }
  bytes_ = bytes;
  return absl::OkStatus();
}

absl::Status DeviceBuffer::ReserveRandom(size_t count, FillType type, cudaStream_t stream, float scale) {
  const size_t elem = type == FillType::kF32 ? 4 : type == FillType::kFp8E4M3 ? 1 : 2;
  if (absl::Status s = Grow(count * elem); !s.ok()) return s;
  if (filled_type_ == static_cast<int>(type) && filled_count_ >= count) return absl::OkStatus();
  const size_t all = bytes_ / elem;  // fill the whole allocation so later, smaller uses need no refill
  if (absl::Status s = CudaStatus(FillRandom(data_, all, type, 0x5eed + all, scale, stream), "FillRandom"); !s.ok()) {
    return s;
  }
  filled_type_ = static_cast<int>(type);
  filled_count_ = all;
  return absl::OkStatus();
}

PinnedBuffer::~PinnedBuffer() {
  if (data_ != nullptr) cudaFreeHost(data_);
}

absl::Status PinnedBuffer::Reserve(size_t bytes) {
  if (bytes <= bytes_) return absl::OkStatus();
  if (data_ != nullptr) cudaFreeHost(data_);
  data_ = nullptr;
  bytes_ = 0;
  if (absl::Status s = CudaStatus(cudaMallocHost(&data_, bytes), "cudaMallocHost"); !s.ok()) {
    data_ = nullptr;
    return s;
  }
  bytes_ = bytes;
  return absl::OkStatus();
}

}  // namespace gpufleet::microbench
