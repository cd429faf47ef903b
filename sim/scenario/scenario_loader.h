// Parses and validates a scenario YAML file against the catalog.
//
// Rejects, before anything runs: YAML syntax errors, bytes that are not UTF-8, repeated keys, a second
// YAML document (all three in LoadYamlString), unknown keys, wrong types, out-of-range values,
// unknown catalog names, missing trace files, and impossible deployments (the model does not fit the
// GPUs' memory at that tensor-parallel degree, more GPUs than the cluster has, a TP group larger than a
// node). Every error is InvalidArgument "file:line:col: what is wrong; expected ...".
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/catalog.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_overrides.h"

namespace gpufleet {

// `overrides` (scenario_overrides.h) are applied to the file's tree first, in order; an error in an
// overridden value names the override's origin instead of a line, and Scenario::text is then the
// resolved scenario (without overrides it is the file's exact text). Relative paths still resolve
// against the file's folder.
absl::StatusOr<Scenario> LoadScenario(const std::string& path, const Catalog& catalog,
                                      const std::vector<ScenarioOverride>& overrides = {});
// For tests: `text` stands for a file named `name`; relative paths resolve against `base_dir`.
absl::StatusOr<Scenario> LoadScenarioFromString(const std::string& text, const std::string& name,
                                                const std::string& base_dir, const Catalog& catalog,
                                                const std::vector<ScenarioOverride>& overrides = {});

// `path` as written in a scenario: absolute, or relative to the scenario file's folder `base_dir`.
std::string ResolveScenarioPath(const std::string& base_dir, const std::string& path);

}  // namespace gpufleet
