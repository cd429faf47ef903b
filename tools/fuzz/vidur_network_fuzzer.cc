// libFuzzer harness: the vidur network profile reader (all_reduce.csv, send_recv.csv).
// The target is FuzzVidurNetwork in tools/fuzz/targets/calibration_targets.h.
#include "tools/fuzz/targets/calibration_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzVidurNetwork(data, size);
}
