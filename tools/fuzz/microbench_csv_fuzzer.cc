// libFuzzer harness: the microbenchmark CSV parser and writer.
// The target is FuzzMicrobenchCsv in tools/fuzz/targets/calibration_targets.h.
#include "tools/fuzz/targets/calibration_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzMicrobenchCsv(data, size);
}
