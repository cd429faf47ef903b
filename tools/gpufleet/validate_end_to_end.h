// `gpufleet validate --source {mlenergy,inference-bench}`: whole serving runs simulated and compared with
// the published measurements (orchestration/end_to_end_validation.h), reported overall, per metric and
// per (GPU, model, TP).
#pragma once

#include <string>

namespace gpufleet {

struct EndToEndValidateFlags {
  std::string source, path, stack, catalog, points;
  int jobs = 1;
  int prompt_tokens = 256;
  bool json = false;
};

// Runs the validation and prints the report; returns the process exit code.
int RunEndToEndValidation(const EndToEndValidateFlags& f);

}  // namespace gpufleet
