// libFuzzer harness: the Splitwise perf model reader and its row screening.
// The target is FuzzSplitwise in tools/fuzz/targets/calibration_targets.h.
#include "tools/fuzz/targets/calibration_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzSplitwise(data, size);
}
