// Typed, position-aware reading of YAML mappings for scenario and catalog files.
//
// Every getter checks the node's type and range and, on failure, returns an InvalidArgument status
// whose message starts with "file:line:col: " (1-based) and says what was wrong and what was expected.
// A MapReader remembers which keys were read; Finish() rejects any key nobody asked for, with a
// did-you-mean hint, so a typo in a scenario never silently falls back to a default.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gpufleet {

// "file:line:col: what; expected EXPECTED" as an InvalidArgument status.
absl::Status YamlError(const std::string& file, const YAML::Mark& mark, std::string_view what,
                       std::string_view expected = {});
absl::Status YamlError(const std::string& file, const YAML::Node& node, std::string_view what,
                       std::string_view expected = {});

// "file:line:col" of `node` (1-based), for messages that quote a location.
std::string YamlWhere(const std::string& file, const YAML::Node& node);
// `node` as one line of flow YAML ("{gpu: A100, replicas: 2}", "[1, 2]"), e.g. an override's value.
std::string YamlFlowText(const YAML::Node& node);

// Parses a YAML file (or text, for tests) into a node; syntax errors carry file:line:col. Also refused,
// with their location: bytes that are not UTF-8 (anywhere, comments included), a key repeated in one
// mapping (yaml-cpp would keep the first silently), and a second document (YAML::Load would drop it).
absl::StatusOr<YAML::Node> LoadYamlFile(const std::string& path);
absl::StatusOr<YAML::Node> LoadYamlString(const std::string& text, const std::string& name);

// One parameter a policy factory reads, as a describing MapReader records it (for `gpufleet policies`).
struct ParamInfo {
  std::string name;
  std::string type;           // "number", "integer", "string", "bool", "list of numbers", "one of: a, b", ...
  bool required = false;
  std::string default_value;  // the caller's value before the read, when optional
  std::string range;          // "[min, max]" when bounded
};

// Reads the fields of one YAML mapping.
class MapReader {
 public:
  // Fails unless `node` is a mapping. `what` names the mapping in messages ("cluster", "deployment[1]").
  static absl::StatusOr<MapReader> Make(const std::string& file, const YAML::Node& node,
                                        std::string what);

  // A reader over an empty mapping that reads nothing: every getter succeeds and leaves *out as it was,
  // and records the key, its type, whether it is required and its default (the value *out held) in
  // *log. A factory run on it lists its parameters without a scenario; Has() is false for every key.
  static MapReader Describing(std::vector<ParamInfo>* log, std::string what);

  bool describing() const { return log_ != nullptr; }
  bool Has(std::string_view key) const;
  // Marks the key as read; undefined node if absent. `shape` says what the value looks like, for the
  // parameter listing (e.g. "map GROUP -> weights").
  YAML::Node Raw(std::string_view key, std::string_view shape = "YAML value");
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  const std::string& what() const { return what_; }

  // Required fields: absent is an error naming the mapping.
  absl::Status Get(std::string_view key, std::string* out);
  absl::Status Get(std::string_view key, double* out, double min = -std::numeric_limits<double>::infinity(),
                   double max = std::numeric_limits<double>::infinity());
  absl::Status Get(std::string_view key, int64_t* out, int64_t min = std::numeric_limits<int64_t>::min(),
                   int64_t max = std::numeric_limits<int64_t>::max());
  absl::Status Get(std::string_view key, bool* out);
  // One of a closed set of strings.
  absl::Status GetEnum(std::string_view key, const std::vector<std::string>& allowed, std::string* out);

  // Optional fields: absent leaves *out untouched (the caller's default).
  absl::Status Opt(std::string_view key, std::string* out);
  absl::Status Opt(std::string_view key, double* out, double min = -std::numeric_limits<double>::infinity(),
                   double max = std::numeric_limits<double>::infinity());
  absl::Status Opt(std::string_view key, int64_t* out, int64_t min = std::numeric_limits<int64_t>::min(),
                   int64_t max = std::numeric_limits<int64_t>::max());
  absl::Status Opt(std::string_view key, bool* out);
  absl::Status OptEnum(std::string_view key, const std::vector<std::string>& allowed, std::string* out);
  absl::Status Opt(std::string_view key, std::vector<std::string>* out);
  // A required list of numbers, each within [min, max].
  absl::Status Get(std::string_view key, std::vector<double>* out, double min, double max);

  // Error located at this mapping's key `key` (or at the mapping itself when absent).
  absl::Status ErrorAt(std::string_view key, std::string_view what, std::string_view expected = {}) const;
  absl::Status Error(std::string_view what, std::string_view expected = {}) const;

  // Rejects keys that were never read.
  absl::Status Finish() const;
  // Rejects, right away, any key outside `allowed` (for mappings whose fields are cross-checked before
  // Finish, so a typo is reported as a typo rather than as the missing field it hides).
  absl::Status ExpectOnly(const std::vector<std::string>& allowed) const;

 private:
  MapReader(std::string file, YAML::Node node, std::string what)
      : file_(std::move(file)), node_(std::move(node)), what_(std::move(what)) {}
  absl::Status Missing(std::string_view key) const;
  YAML::Node Read(std::string_view key);
  // Describing: records the parameter unless already recorded; true when this reader only describes.
  bool Record(std::string_view key, std::string type, bool required, std::string default_value = {},
              std::string range = {});

  std::vector<ParamInfo>* log_ = nullptr;
  std::string file_;
  YAML::Node node_;
  std::string what_;
  std::set<std::string, std::less<>> read_;
};

// Scalar conversions with located errors, for sequence items and other unkeyed nodes.
absl::StatusOr<double> ScalarDouble(const std::string& file, const YAML::Node& node, std::string_view what,
                                    double min, double max);
absl::StatusOr<int64_t> ScalarInt(const std::string& file, const YAML::Node& node, std::string_view what,
                                  int64_t min, int64_t max);
absl::StatusOr<std::string> ScalarString(const std::string& file, const YAML::Node& node, std::string_view what);

// Closest candidate by edit distance, or "" when nothing is close.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace gpufleet
