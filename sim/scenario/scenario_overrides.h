// Overrides of single scenario fields from outside the file (`gpufleet simulate --set PATH=VALUE`, sweeps).
//
// A PATH names one node of the scenario's YAML tree: keys separated by '.', list items by [N], and keys
// that hold a '.' or brackets quoted as ["KEY"] (prices.node_usd_per_hour["aws-p5.48xlarge"]). The VALUE
// is YAML text: a scalar, or a flow mapping or list. The override replaces the node, or adds the key when
// its parent mapping exists but lacks it; it never creates a missing parent, so a typo in the middle of a
// path is an error here, and a typo in its last key is the loader's usual "unknown key, did you mean".
//
// How errors name the flag. The overrides are applied to the node tree parsed from the file, so every
// untouched node keeps its mark (line, column) in the file. Each override's value (and the key it adds)
// is parsed as if it followed the file's last line, override k below override k-1, so its nodes carry
// marks in a line range that no line of the file has. The loader reads that tree as it reads any file and
// reports "FILE:LINE:COL: ..."; ResolvedScenario::Locate() then rewrites a location that falls in an
// override's range to that override's origin ("--set deployment[0].replicas=0: ..."), and adds "(with
// --set ...)" to one in the file. Nothing depends on the emitted text's layout, so emitter changes cannot
// shift a location.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gpufleet {

struct ScenarioOverride {
  std::string path;    // "deployment[0].replicas", "workload.rate_multiplier", "router", "cluster"
  std::string value;   // YAML text of the new value: "6", "round_robin", "{gpu: A100-SXM-80GB, replicas: 2}"
  std::string origin;  // where it came from, for messages: "--set deployment[0].replicas=6"
};

// Parses "PATH=VALUE" (the text of one --set flag); InvalidArgument naming `origin` when malformed.
absl::StatusOr<ScenarioOverride> ParseOverride(const std::string& text, const std::string& origin);

// The overrides of a `set: {PATH: VALUE, ...}` mapping in a sweep or plan file `file`, in file order, each
// with its origin "FILE:LINE:COL: PATH=VALUE". Absent or null: none. Not a mapping: a located error.
absl::StatusOr<std::vector<ScenarioOverride>> OverridesFromSet(const std::string& file, const YAML::Node& set);

// A scenario tree with its overrides applied, and what is needed to locate errors in it.
class ResolvedScenario {
 public:
  // Parses `text` (the scenario file `file`) and applies `overrides` in order. A path whose parent does
  // not exist, an index out of range, a path through a scalar, or a value that is not valid YAML is
  // InvalidArgument naming the override's origin and what was expected.
  static absl::StatusOr<ResolvedScenario> Make(const std::string& text, const std::string& file,
                                               const std::vector<ScenarioOverride>& overrides);

  const YAML::Node& root() const { return root_; }
  // The scenario as loaded: the file's exact text without overrides, else the tree emitted by yaml-cpp
  // (comments dropped), so a stored run can be reproduced from this text alone.
  const std::string& text() const { return text_; }
  // Rewrites an error "FILE:LINE:COL: ..." found in root() as described at the top of this file; other
  // statuses pass unchanged.
  absl::Status Locate(const absl::Status& status) const;

 private:
  struct Applied {
    std::string origin;
    int first_line = 0;  // 0-based line range [first_line, end_line) of its nodes' marks
    int end_line = 0;
  };

  std::string file_;
  YAML::Node root_;
  std::string text_;
  int file_lines_ = 0;
  std::vector<Applied> applied_;
};

// Applies overrides in order to the scenario YAML `text` (of file `file`) and returns the resolved YAML
// text (emitted by yaml-cpp); errors as in ResolvedScenario::Make. Load a scenario with overrides through
// LoadScenario(path, catalog, overrides) rather than from this text, so that errors name the flags.
absl::StatusOr<std::string> ApplyOverrides(const std::string& text, const std::string& file,
                                           const std::vector<ScenarioOverride>& overrides);

}  // namespace gpufleet
