// Scenario overrides: path parsing, application to the YAML tree, and error location (see
// scenario_overrides.h).
#include "sim/scenario/scenario_overrides.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {
namespace {

constexpr const char* kPathForm =
    "a path of keys joined by '.', list items as [N] and quoted keys as [\"KEY\"], e.g. deployment[0].replicas";

struct Step {
  bool is_index = false;
  std::string key;
  size_t index = 0;
};

absl::Status OverrideError(const std::string& origin, const std::string& what, const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat(origin, ": ", what, "; expected ", expected));
}

absl::StatusOr<std::vector<Step>> ParsePath(const std::string& path, const std::string& origin) {
  if (path.empty()) return OverrideError(origin, "the path is empty", kPathForm);
  std::vector<Step> steps;
  size_t i = 0;
  while (i < path.size()) {
    if (static_cast<unsigned char>(path[i]) < 0x20) {
      return OverrideError(origin, absl::StrCat("the path '", path, "' holds a control character"), kPathForm);
    }
    if (path[i] == '[') {
      const size_t close = path.find(']', i);
      const std::string inner = close == std::string::npos ? path.substr(i + 1) : path.substr(i + 1, close - i - 1);
      Step step;
      const bool quoted = inner.size() >= 2 && inner.front() == '"' && inner.back() == '"';
      const bool digits = !inner.empty() && inner.size() <= 9 &&
                          std::all_of(inner.begin(), inner.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (close == std::string::npos || !(quoted || digits) || (quoted && inner.size() == 2)) {
        return OverrideError(
            origin, absl::StrCat("the path '", path, "' has a bad index '[", inner, close == std::string::npos ? "" : "]", "'"),
            "[N] with N a list index (0, 1, ...), or [\"KEY\"] for a key that holds '.' or brackets");
      }
      if (quoted) {
        step.key = inner.substr(1, inner.size() - 2);
      } else {
        step.is_index = true;
        step.index = std::strtoul(inner.c_str(), nullptr, 10);
      }
      steps.push_back(std::move(step));
      i = close + 1;
      if (i < path.size() && path[i] != '.' && path[i] != '[') {
        return OverrideError(origin, absl::StrCat("the path '", path, "' continues after '[", inner, "]' without a '.'"),
                             kPathForm);
      }
      if (i < path.size() && path[i] == '.') {
        ++i;
        if (i == path.size()) return OverrideError(origin, absl::StrCat("the path '", path, "' ends with '.'"), kPathForm);
      }
      continue;
    }
    const size_t end = path.find_first_of(".[]", i);
    const std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (key.empty() || (end != std::string::npos && path[end] == ']')) {
      return OverrideError(origin, absl::StrCat("the path '", path, "' has an empty key or a stray ']'"), kPathForm);
    }
    steps.push_back({false, key, 0});
    i = end == std::string::npos ? path.size() : end;
    if (i < path.size() && path[i] == '.') {
      ++i;
      if (i == path.size()) return OverrideError(origin, absl::StrCat("the path '", path, "' ends with '.'"), kPathForm);
    }
  }
  return steps;
}

std::string StepText(const Step& step, bool first) {
  if (step.is_index) return absl::StrCat("[", step.index, "]");
  if (step.key.find_first_of(".[]") != std::string::npos) return absl::StrCat("[\"", step.key, "\"]");
  return first ? step.key : absl::StrCat(".", step.key);
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return absl::StrCat("'", node.Scalar(), "'");
    default: return "empty (null)";
  }
}

// What to write instead of a path that goes through a scalar or the wrong kind of collection.
std::string ReplaceHint(const std::string& where) {
  if (where == "the scenario") return "a path that starts with a top-level key (cluster, deployment, router, ...)";
  return absl::StrCat("a path through the mappings and lists of the scenario; to replace ", where, " itself, --set ",
                      where, "=VALUE");
}

int CountLines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1; }

// Parses `yaml` as if its first line were line `first_line` of the scenario, so its nodes' marks fall in
// the override's line range. An empty value is read as "~", a null that still carries a mark.
absl::StatusOr<YAML::Node> ParseAt(std::string yaml, int first_line, const std::string& origin, const std::string& what) {
  auto alone = LoadYamlString(yaml, what);
  if (!alone.ok()) {
    return OverrideError(origin, absl::StrCat(what, " is not valid YAML (", alone.status().message(), ")"),
                         "a YAML scalar, or a flow mapping {k: v, ...} or list [a, b, ...]");
  }
  if (alone->Mark().line < 0) yaml = "~";  // empty or comments only: no node, hence no mark
  return LoadYamlString(std::string(static_cast<size_t>(first_line), '\n') + yaml, origin);
}

std::string Quoted(const std::string& key) {
  std::string out = "\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<ScenarioOverride> ParseOverride(const std::string& text, const std::string& origin) {
  // The first '=' outside brackets: a quoted key may hold one, the value may hold any.
  int depth = 0;
  size_t eq = std::string::npos;
  for (size_t i = 0; i < text.size() && eq == std::string::npos; ++i) {
    if (text[i] == '[') ++depth;
    if (text[i] == ']') depth = std::max(0, depth - 1);
    if (text[i] == '=' && depth == 0) eq = i;
  }
  if (eq == std::string::npos) {
    return OverrideError(origin, absl::StrCat("'", text, "' has no '='"), "PATH=VALUE, e.g. deployment[0].replicas=6");
  }
  ScenarioOverride o{text.substr(0, eq), text.substr(eq + 1), origin};
  GF_RETURN_IF_ERROR(ParsePath(o.path, origin).status());
  return o;
}

absl::StatusOr<ResolvedScenario> ResolvedScenario::Make(const std::string& text, const std::string& file,
                                                        const std::vector<ScenarioOverride>& overrides) {
  ResolvedScenario r;
  r.file_ = file;
  GF_ASSIGN_OR_RETURN(r.root_, LoadYamlString(text, file));
  r.file_lines_ = CountLines(text);
  if (overrides.empty()) {
    r.text_ = text;
    return r;
  }
  int next_line = r.file_lines_;
  for (const ScenarioOverride& o : overrides) {
    GF_ASSIGN_OR_RETURN(std::vector<Step> steps, ParsePath(o.path, o.origin));
    Applied applied{o.origin, next_line, 0};
    // Line next_line: the key, should the override add one; the value below it.
    GF_ASSIGN_OR_RETURN(YAML::Node value, ParseAt(o.value, next_line + 1, o.origin, "the value"));
    applied.end_line = next_line + 1 + CountLines(o.value);
    next_line = applied.end_line;

    YAML::Node parent = r.root_;
    std::string where = "the scenario";
    for (size_t i = 0; i < steps.size(); ++i) {
      const Step& step = steps[i];
      const bool last = i + 1 == steps.size();
      const std::string step_text = StepText(step, i == 0);
      if (step.is_index) {
        if (!parent.IsSequence()) {
          return OverrideError(
              o.origin, absl::StrCat(where, " is ", Describe(parent), ", not a list, so it has no item ", step_text),
              ReplaceHint(where));
        }
        if (step.index >= parent.size()) {
          return OverrideError(
              o.origin, absl::StrCat(where, " has ", parent.size(), " item(s), so ", step_text, " is out of range"),
              absl::StrCat("an index in [0, ", parent.size() - 1, "]"));
        }
        if (last) {
          YAML::Node item = parent[step.index];
          item = value;  // the item now refers to the new value's node, marks included
        } else {
          parent.reset(parent[step.index]);
        }
      } else {
        if (!parent.IsMap()) {
          return OverrideError(o.origin,
                               absl::StrCat(where, " is ", Describe(parent), ", not a mapping, so it has no key '",
                                            step.key, "'"),
                               ReplaceHint(where));
        }
        const YAML::Node& constant = parent;  // lookups on a const node never add the key
        const bool exists = constant[step.key].IsDefined();
        if (last && exists) {
          YAML::Node child = parent[step.key];
          child = value;
        } else if (last) {
          GF_ASSIGN_OR_RETURN(YAML::Node key, ParseAt(Quoted(step.key), applied.first_line, o.origin, "the key"));
          parent.force_insert(key, value);  // keeps the key node, whose mark locates an "unknown key" error
        } else if (!exists) {
          std::vector<std::string> keys;
          for (const auto& kv : constant) keys.push_back(kv.first.as<std::string>(""));
          std::string hint;
          if (std::string close = ClosestMatch(step.key, keys); !close.empty()) {
            hint = absl::StrCat(" (did you mean '", close, "'?)");
          }
          return OverrideError(o.origin, absl::StrCat(where, " has no key '", step.key, "'", hint),
                               absl::StrCat("a path whose every part but the last exists; ", where, " has: ",
                                            keys.empty() ? "no keys" : absl::StrJoin(keys, ", ")));
        } else {
          parent.reset(parent[step.key]);
        }
      }
      where = i == 0 ? step_text : absl::StrCat(where, step_text);
    }
    r.applied_.push_back(std::move(applied));
  }
  YAML::Emitter out;
  out << r.root_;
  if (!out.good()) {
    return absl::InternalError(absl::StrCat(file, ": cannot write the scenario with its overrides: ", out.GetLastError()));
  }
  r.text_ = absl::StrCat(out.c_str(), "\n");
  return r;
}

absl::Status ResolvedScenario::Locate(const absl::Status& status) const {
  if (status.ok() || applied_.empty() || status.code() != absl::StatusCode::kInvalidArgument) return status;
  const std::string message(status.message());
  const std::string prefix = file_ + ":";
  if (message.rfind(prefix, 0) != 0) return status;
  // "FILE:LINE:COL: rest"
  const char* start = message.c_str() + prefix.size();
  char* end = nullptr;
  const long line = std::strtol(start, &end, 10);
  if (end == start || *end != ':') return status;
  const char* col_start = end + 1;
  std::strtol(col_start, &end, 10);
  if (end == col_start || std::string_view(end).rfind(": ", 0) != 0) return status;
  const std::string location = message.substr(0, static_cast<size_t>(end - message.c_str()));
  const std::string rest = end + 2;
  const int line0 = static_cast<int>(line) - 1;
  if (line0 < file_lines_) {
    std::vector<std::string> origins;
    for (const Applied& a : applied_) origins.push_back(a.origin);
    return absl::InvalidArgumentError(absl::StrCat(location, " (with ", absl::StrJoin(origins, ", "), "): ", rest));
  }
  for (const Applied& a : applied_) {
    if (line0 >= a.first_line && line0 < a.end_line) return absl::InvalidArgumentError(absl::StrCat(a.origin, ": ", rest));
  }
  return status;
}

absl::StatusOr<std::string> ApplyOverrides(const std::string& text, const std::string& file,
                                           const std::vector<ScenarioOverride>& overrides) {
  GF_ASSIGN_OR_RETURN(ResolvedScenario resolved, ResolvedScenario::Make(text, file, overrides));
  return resolved.text();
}

absl::StatusOr<std::vector<ScenarioOverride>> OverridesFromSet(const std::string& file, const YAML::Node& set) {
  std::vector<ScenarioOverride> out;
  if (!set.IsDefined() || set.IsNull()) return out;
  if (!set.IsMap()) return YamlError(file, set, "set is not a mapping", "set: {PATH: VALUE, ...}");
  for (const auto& kv : set) {
    const std::string value = YamlFlowText(kv.second);
    GF_ASSIGN_OR_RETURN(ScenarioOverride o,
                        ParseOverride(absl::StrCat(kv.first.Scalar(), "=", value),
                                      absl::StrCat(YamlWhere(file, kv.first), ": ", kv.first.Scalar(), "=", value)));
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace gpufleet
