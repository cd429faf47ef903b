// NCCL collectives across every visible GPU from one process (ncclCommInitAll, one stream per GPU, group
// calls): all_reduce, all_gather, reduce_scatter and a ring send_recv. `bytes` follows nccl-tests'
// "size": the full buffer (all_reduce: each rank's buffer; all_gather: the gathered output, each rank
// contributes bytes/ranks; reduce_scatter: the input, each rank keeps bytes/ranks; send_recv: what each
// rank sends to the next). Built without NCCL, Create says so.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/microbench/device.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/timing.h"

namespace gpufleet::microbench {

class CollectivesBench {
 public:
  // Needs at least two GPUs; Unimplemented when the binary was built without NCCL.
  static absl::StatusOr<std::unique_ptr<CollectivesBench>> Create(const std::vector<GpuInfo>& gpus);
  ~CollectivesBench();
  CollectivesBench(const CollectivesBench&) = delete;
  CollectivesBench& operator=(const CollectivesBench&) = delete;

  int ranks() const { return static_cast<int>(gpus_.size()); }
  absl::StatusOr<TimedResult> Measure(const Measurement& m, const MethodOptions& method, PowerSampler* sampler);

 private:
  explicit CollectivesBench(std::vector<GpuInfo> gpus) : gpus_(std::move(gpus)) {}

  std::vector<GpuInfo> gpus_;
  std::vector<void*> comms_;  // ncclComm_t
  std::vector<TimedStream> streams_;
  std::vector<std::unique_ptr<DeviceBuffer>> send_, recv_;
};

}  // namespace gpufleet::microbench
