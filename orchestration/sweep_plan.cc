// See sweep_plan.h.
#include "orchestration/sweep_plan.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/util/status_macros.h"
#include "sim/util/fnv1a.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {
namespace {

// The seed the scenario itself sets (0 when absent, as the loader defaults it): the first of
// `replications` seeds.
absl::StatusOr<int64_t> ScenarioSeed(const std::string& resolved, const std::string& base) {
  GF_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlString(resolved, base));
  if (!root.IsMap() || !root["seed"].IsDefined() || root["seed"].IsNull()) return 0;
  return ScalarInt(base, root["seed"], "seed", 0, std::numeric_limits<int64_t>::max());
}

}  // namespace

std::string PointKey(const std::string& resolved_text, int64_t seed) {
  return absl::StrFormat("%016x", Fnv1a(absl::StrCat(resolved_text, "\n", seed, "\n", GPUFLEET_VERSION)));
}

absl::StatusOr<SweepPlan> PlanSweep(const SweepSpec& spec) {
  std::ifstream in(spec.base, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(spec.file, ": base scenario ", spec.base,
                                                   " cannot be read; expected a path relative to the sweep file"));
  }
  std::ostringstream base_text;
  base_text << in.rdbuf();
  SweepPlan plan;
  const auto configs = ExpandConfigurations(spec);
  uint64_t id = Fnv1a(absl::StrCat(spec.name, "\n"));
  for (size_t c = 0; c < configs.size(); ++c) {
    std::vector<ScenarioOverride> all = spec.fixed;
    all.insert(all.end(), configs[c].begin(), configs[c].end());
    GF_ASSIGN_OR_RETURN(std::string resolved, ApplyOverrides(base_text.str(), spec.base, all));
    std::vector<int64_t> seeds = spec.seeds;
    if (seeds.empty()) {
      GF_ASSIGN_OR_RETURN(int64_t first, ScenarioSeed(resolved, spec.base));
      for (int64_t i = 0; i < spec.replications; ++i) seeds.push_back(first + i);
    }
    for (int64_t seed : seeds) {
      SweepPoint p{static_cast<int64_t>(plan.points.size()), static_cast<int64_t>(c), configs[c], seed,
                   PointKey(resolved, seed)};
      id = Fnv1a(p.key, id);
      plan.points.push_back(std::move(p));
    }
  }
  plan.sweep_id = absl::StrFormat("%016x", id);
  return plan;
}

std::string OverridesJson(const std::vector<ScenarioOverride>& overrides) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const ScenarioOverride& o : overrides) {
    int64_t i;
    double d;
    if (absl::SimpleAtoi(o.value, &i)) {
      out[o.path] = i;
    } else if (absl::SimpleAtod(o.value, &d) && std::isfinite(d)) {
      out[o.path] = d;
    } else if (o.value == "true" || o.value == "false") {
      out[o.path] = o.value == "true";
    } else {
      out[o.path] = o.value;
    }
  }
  return out.dump();
}

std::vector<std::string> SimulateArgs(const SweepSpec& spec, const SweepPoint& point, const std::string& shard) {
  std::vector<std::string> args = {"simulate", spec.base};
  for (const auto* list : {&spec.fixed, &point.overrides}) {
    for (const ScenarioOverride& o : *list) {
      args.push_back("--set");
      args.push_back(absl::StrCat(o.path, "=", o.value));
    }
  }
  for (const char* a : {"--json", "--no-progress", "--db"}) args.emplace_back(a);
  args.push_back(shard);
  args.push_back("--seed");
  args.push_back(absl::StrCat(point.seed));
  return args;
}

}  // namespace gpufleet
