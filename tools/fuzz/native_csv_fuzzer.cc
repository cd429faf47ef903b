// libFuzzer harness: the native trace CSV stream, its extent and length pairs.
// The target is FuzzNativeCsv in tools/fuzz/targets/trace_targets.h.
#include "tools/fuzz/targets/trace_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzNativeCsv(data, size);
}
