// A by-name registry for one kind of policy (routers, batch schedulers, ...).
//
// A policy file defines its class and registers a factory with GF_REGISTER_POLICY; a scenario selects it
// with `type: NAME` and passes the rest of its mapping as parameters, which the factory reads through a
// MapReader (so a misspelled parameter is an error at file:line:col, not a silent default).
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {

// Where a policy's settings came from: the scenario mapping `{type: NAME, param: value, ...}`.
struct PolicyConfig {
  std::string type;
  std::string file;            // for error messages
  YAML::Node node{YAML::NodeType::Map};
  std::string what = "policy"; // e.g. "router", "deployment[0].scheduler"
};

// Resolves group names a policy's parameters list (`what`: "router.shares", located at `mark`) against the
// deployment's: the mask of named groups, or an error at `mark` with a did-you-mean.
inline absl::StatusOr<std::vector<bool>> ResolveGroupNames(const std::string& file, const YAML::Mark& mark,
                                                           const std::string& what, const std::vector<std::string>& names,
                                                           const std::vector<std::string>& group_names) {
  std::vector<bool> named(group_names.size(), false);
  for (const std::string& n : names) {
    auto it = std::find(group_names.begin(), group_names.end(), n);
    if (it == group_names.end()) {
      std::string hint;
      if (std::string c = ClosestMatch(n, group_names); !c.empty()) hint = absl::StrCat(" (did you mean '", c, "'?)");
      return YamlError(file, mark, absl::StrCat(what, ": '", n, "' is not a deployment group", hint),
                       absl::StrCat("a group name of the deployment: ", absl::StrJoin(group_names, ", ")));
    }
    named[static_cast<size_t>(it - group_names.begin())] = true;
  }
  return named;
}

template <class Interface>
class PolicyRegistry {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Interface>>(MapReader& params)>;
  struct Entry {
    std::string name;
    std::string description;
    Factory factory;
  };

  static PolicyRegistry& Get() {
    static PolicyRegistry registry;
    return registry;
  }

  bool Register(std::string name, std::string description, Factory factory) {
    entries_[name] = Entry{name, std::move(description), std::move(factory)};
    return true;
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, entry] : entries_) names.push_back(name);
    return names;
  }
  const std::map<std::string, Entry>& entries() const { return entries_; }

  // The parameters policy `name` reads, in the order it reads them, with types and defaults: its factory
  // run on a describing MapReader (so the listing cannot drift from the code that parses the scenario).
  absl::StatusOr<std::vector<ParamInfo>> Describe(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no policy '", name, "'"));
    std::vector<ParamInfo> params;
    MapReader reader = MapReader::Describing(&params, name);
    if (auto policy = it->second.factory(reader); !policy.ok()) return policy.status();
    return params;
  }

  // Builds the policy `config` names, with its parameters checked; errors are located in the scenario.
  absl::StatusOr<std::unique_ptr<Interface>> Create(const PolicyConfig& config) const {
    auto it = entries_.find(config.type);
    if (it == entries_.end()) {
      std::string hint;
      if (std::string close = ClosestMatch(config.type, Names()); !close.empty())
        hint = absl::StrCat(" (did you mean '", close, "'?)");
      const YAML::Node at = config.node["type"].IsDefined() ? config.node["type"] : config.node;
      return YamlError(config.file, at, absl::StrCat(config.what, ".type '", config.type, "' is not a known policy", hint),
                       absl::StrCat("one of: ", absl::StrJoin(Names(), ", ")));
    }
    auto reader = MapReader::Make(config.file, config.node, config.what);
    if (!reader.ok()) return reader.status();
    // A key the policy does not read is a typo, reported as one before the factory's own checks (which
    // could otherwise report the parameter the typo hides as missing).
    if (auto params = Describe(config.type); params.ok()) {
      std::vector<std::string> known{"type"};
      for (const ParamInfo& p : *params) known.push_back(p.name);
      if (auto st = reader->ExpectOnly(known); !st.ok()) return st;
    }
    reader->Raw("type");
    auto policy = it->second.factory(*reader);
    if (!policy.ok()) return policy.status();
    if (auto st = reader->Finish(); !st.ok()) return st;
    return policy;
  }

 private:
  std::map<std::string, Entry> entries_;
};

#define GF_POLICY_CONCAT_INNER_(a, b) a##b
#define GF_POLICY_CONCAT_(a, b) GF_POLICY_CONCAT_INNER_(a, b)
// GF_REGISTER_POLICY(Router, "round_robin", "description", factory-lambda)
#define GF_REGISTER_POLICY(Interface, name, description, factory)                              \
  static const bool GF_POLICY_CONCAT_(gf_registered_policy_, __LINE__) [[maybe_unused]] = \
      ::gpufleet::PolicyRegistry<Interface>::Get().Register(name, description, factory)

}  // namespace gpufleet
