// Serving stacks: a calibration profile describes a (GPU, serving stack) pair, because what users see end
// to end depends on the software as much as on the GPU (the same H100 decodes Llama-2-7B at 10.8 ms/token
// under an eager 2023 vLLM and at 7.6 ms under a CUDA-graph one). Each stack is a folder of <GPU>.yaml
// profiles under the calibration root, listed in <root>/stacks.yaml with its release date and what it is.
// A GPU without a profile in a stack derives one from a donor of the same stack (ProfileForGpu).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"

namespace gpufleet {

// The stack the vidur kernel times and Splitwise's end-to-end times were measured on: what the kernel
// and Splitwise sources calibrate and validate by default.
inline constexpr char kSplitwiseStack[] = "splitwise-2023";

struct ServingStack {
  std::string name;         // folder name, e.g. "vllm-0.11"
  std::string released;     // YYYY-MM of the software the measurements ran (orders "most recent")
  std::string description;  // what it is: framework, version, execution mode, precision
  std::string framework;    // the serving framework as measurement sets name it ("vLLM"), to label runs of others
  std::string dir;          // <root>/<name>
  std::vector<std::string> calibrated_gpus;  // GPUs with a calibrated profile in the folder, sorted
};

// The stacks listed in `root`/stacks.yaml, newest first (ties by name). Every listed stack must have its
// folder; a folder of profiles that stacks.yaml does not list is an error (a stack nobody can name).
absl::StatusOr<std::vector<ServingStack>> LoadServingStacks(const std::string& root, const Catalog& catalog);

// The stack a scenario gets when it names none: the most recent one with a calibrated profile for every
// GPU in `gpus`; when none covers them all, the most recent among those covering the most (the rest
// derive from a donor of that stack). `reason` says which rule chose it, for reports.
struct StackChoice {
  const ServingStack* stack = nullptr;
  std::string reason;
};
StackChoice DefaultServingStack(const std::vector<ServingStack>& stacks, const std::vector<std::string>& gpus);

// The stack called `name`, or NotFound listing the known names.
absl::StatusOr<const ServingStack*> FindServingStack(const std::vector<ServingStack>& stacks, const std::string& name);

}  // namespace gpufleet
