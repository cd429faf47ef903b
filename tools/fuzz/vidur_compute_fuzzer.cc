// libFuzzer harness: the vidur compute profile reader (mlp.csv).
// The target is FuzzVidurCompute in tools/fuzz/targets/calibration_targets.h.
#include "tools/fuzz/targets/calibration_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzVidurCompute(data, size);
}
