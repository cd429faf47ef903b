// libFuzzer harness: the workload pipeline (superposition, reshaping, resampling) over a trace.
// The target is FuzzWorkload in tools/fuzz/targets/trace_targets.h.
#include "tools/fuzz/targets/trace_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzWorkload(data, size);
}
