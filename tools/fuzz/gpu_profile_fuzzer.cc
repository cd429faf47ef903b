// libFuzzer harness: the GPU calibration profile YAML reader and writer.
// The target is FuzzGpuProfile in tools/fuzz/targets/calibration_targets.h.
#include "tools/fuzz/targets/calibration_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzGpuProfile(data, size);
}
