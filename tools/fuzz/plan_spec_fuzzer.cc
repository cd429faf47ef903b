// libFuzzer harness: the capacity plan file reader (ParsePlanSpec).
// The target is FuzzPlanSpec in tools/fuzz/targets/plan_targets.h.
#include "tools/fuzz/targets/plan_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzPlanSpec(data, size);
}
