// libFuzzer harness: the Mélange solver input reader (ParseMelangeJson), then the integer program over
// the tables small enough to solve quickly (SolveCapacityIlp, 1 s limit).
// The target is FuzzMelangeJson in tools/fuzz/targets/plan_targets.h.
#include "tools/fuzz/targets/plan_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzMelangeJson(data, size);
}
