// libFuzzer harness: the scenario loader.
// The target is FuzzScenario in tools/fuzz/targets/scenario_target.h.
#include "tools/fuzz/targets/scenario_target.h"

// The catalog is read once, before the first input, so its cost is not counted per execution.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  gpufleet::fuzz::FuzzCatalog();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gpufleet::fuzz::FuzzScenario(data, size);
}
