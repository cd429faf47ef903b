// See sweep_spec.h. Values are kept as YAML text (what `--set PATH=VALUE` takes), each with the place in the
// sweep file it came from, so that an error about a value names that place.
#include "orchestration/sweep_spec.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {
namespace {

// Integral values print as integers, others with 15 significant digits so that 0.1 + 0.2 reads 0.3.
std::string FormatNumber(double v, bool integral) {
  return integral ? absl::StrCat(static_cast<int64_t>(std::llround(v))) : absl::StrFormat("%.15g", v);
}

bool Integral(double v) { return std::floor(v) == v && std::fabs(v) < 9.0e15; }

// `{from, to, step}` or `{from, to, factor}`; both ends included (to a relative 1e-9, against rounding).
absl::StatusOr<std::vector<std::string>> ReadRange(const std::string& file, const YAML::Node& node,
                                                   const std::string& path) {
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file, node, path));
  GF_RETURN_IF_ERROR(r.ExpectOnly({"from", "to", "step", "factor"}));
  double from = 0, to = 0, step = 0, factor = 0;
  GF_RETURN_IF_ERROR(r.Get("from", &from));
  GF_RETURN_IF_ERROR(r.Get("to", &to, from));
  const bool arithmetic = r.Has("step");
  if (arithmetic == r.Has("factor")) {
    return r.Error("a range needs exactly one of step (arithmetic) and factor (geometric)",
                   "{from: A, to: B, step: S} or {from: A, to: B, factor: F}");
  }
  std::vector<std::string> values;
  const double slack = 1e-9 * std::max(std::fabs(to), std::fabs(from)) + 1e-12;
  if (arithmetic) {
    GF_RETURN_IF_ERROR(r.Get("step", &step, 0));
    if (!(step > 0)) return r.ErrorAt("step", absl::StrCat(path, ".step is ", step), "a number > 0");
    if ((to - from) / step >= static_cast<double>(kMaxSweepPoints)) {
      return r.Error(absl::StrCat("the range has more than ", kMaxSweepPoints, " values"), "a larger step");
    }
    const bool integral = Integral(from) && Integral(to) && Integral(step);
    for (int64_t i = 0; from + static_cast<double>(i) * step <= to + slack; ++i) {
      values.push_back(FormatNumber(from + static_cast<double>(i) * step, integral));
    }
  } else {
    GF_RETURN_IF_ERROR(r.Get("factor", &factor));
    if (!(factor > 1)) return r.ErrorAt("factor", absl::StrCat(path, ".factor is ", factor), "a number > 1");
    if (!(from > 0)) return r.ErrorAt("from", absl::StrCat(path, ".from is ", from), "a number > 0 with factor");
    const bool integral = Integral(from) && Integral(factor);
    for (double v = from; v <= to + slack; v *= factor) values.push_back(FormatNumber(v, integral));
  }
  GF_RETURN_IF_ERROR(r.Finish());
  return values;
}

// One axis path's values: a non-empty list of YAML values, or a range mapping.
absl::Status ReadValues(const std::string& file, const YAML::Node& key, const YAML::Node& node, SweepAxis* axis) {
  const std::string path = key.Scalar();
  std::vector<std::string> texts, wheres;
  if (node.IsMap()) {
    GF_ASSIGN_OR_RETURN(texts, ReadRange(file, node, path));
    wheres.assign(texts.size(), YamlWhere(file, node));
  } else if (node.IsSequence() && node.size() > 0) {
    for (const YAML::Node& item : node) {
      texts.push_back(YamlFlowText(item));
      wheres.push_back(YamlWhere(file, item));
    }
  } else {
    return YamlError(file, node, absl::StrCat(path, " has no values"),
                     "a list of values ([2, 4, 6]) or a range ({from: 256, to: 2048, step: 256})");
  }
  if (!axis->values.empty() && axis->values.size() != texts.size()) {
    return YamlError(file, key, absl::StrCat("zipped path ", path, " has ", texts.size(), " values but ",
                                             axis->paths.front(), " has ", axis->values.size()),
                     "the same number of values for every path of a zip group");
  }
  axis->values.resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    GF_ASSIGN_OR_RETURN(ScenarioOverride o,
                        ParseOverride(absl::StrCat(path, "=", texts[i]), absl::StrCat(wheres[i], ": ", path, "=", texts[i])));
    axis->values[i].push_back(std::move(o));
  }
  axis->paths.push_back(path);
  axis->origins.push_back(YamlWhere(file, key));
  return absl::OkStatus();
}

absl::Status ReadAxes(const std::string& file, const YAML::Node& node, SweepSpec* spec) {
  if (!node.IsMap()) {
    return YamlError(file, node, "axes is not a mapping", "axes: {PATH: [VALUES...] or {from, to, step|factor}, ...}");
  }
  for (const auto& kv : node) {
    SweepAxis axis;
    GF_RETURN_IF_ERROR(ReadValues(file, kv.first, kv.second, &axis));
    spec->axes.push_back(std::move(axis));
  }
  return absl::OkStatus();
}

absl::Status ReadZip(const std::string& file, const YAML::Node& node, SweepSpec* spec) {
  if (!node.IsSequence()) {
    return YamlError(file, node, "zip is not a list", "zip: [{PATH_A: [...], PATH_B: [...]}, ...]");
  }
  for (const YAML::Node& group : node) {
    if (!group.IsMap() || group.size() == 0) {
      return YamlError(file, group, "a zip group is not a mapping of paths", "{PATH_A: [...], PATH_B: [...]}");
    }
    SweepAxis axis;
    for (const auto& kv : group) GF_RETURN_IF_ERROR(ReadValues(file, kv.first, kv.second, &axis));
    spec->axes.push_back(std::move(axis));
  }
  return absl::OkStatus();
}

// A path set twice would make the later value win silently; `seed` has its own keys.
absl::Status CheckPaths(const SweepSpec& spec) {
  std::set<std::string> seen;
  for (const ScenarioOverride& o : spec.fixed) seen.insert(o.path);
  for (const SweepAxis& axis : spec.axes) {
    for (size_t j = 0; j < axis.paths.size(); ++j) {
      if (axis.paths[j] == "seed") {
        return absl::InvalidArgumentError(absl::StrCat(axis.origins[j], ": seed cannot be an axis; expected "
                                                       "seeds: [1, 2, 3] or replications: N at top level"));
      }
      if (!seen.insert(axis.paths[j]).second) {
        return absl::InvalidArgumentError(absl::StrCat(axis.origins[j], ": ", axis.paths[j],
                                                       " is set twice in this sweep; expected each path once"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SweepSpec> ParseSweepSpec(const std::string& text, const std::string& name) {
  GF_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlString(text, name));
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(name, root, "sweep"));
  GF_RETURN_IF_ERROR(r.ExpectOnly({"name", "base", "set", "axes", "zip", "seeds", "replications"}));
  SweepSpec spec;
  spec.file = name;
  spec.text = text;
  spec.name = std::filesystem::path(name).stem().string();
  GF_RETURN_IF_ERROR(r.Opt("name", &spec.name));
  GF_RETURN_IF_ERROR(r.Get("base", &spec.base));
  spec.base = (std::filesystem::path(name).parent_path() / spec.base).lexically_normal().string();
  GF_ASSIGN_OR_RETURN(spec.fixed, OverridesFromSet(name, r.Raw("set")));
  // Axes in file order: `axes` entries and `zip` groups where they appear.
  for (const auto& kv : root) {
    if (kv.first.Scalar() == "axes") GF_RETURN_IF_ERROR(ReadAxes(name, r.Raw("axes"), &spec));
    if (kv.first.Scalar() == "zip") GF_RETURN_IF_ERROR(ReadZip(name, r.Raw("zip"), &spec));
  }
  if (r.Has("seeds") && r.Has("replications")) {
    return r.ErrorAt("replications", "both seeds and replications are set", "one of them");
  }
  if (YAML::Node seeds = r.Raw("seeds"); seeds.IsDefined()) {
    if (!seeds.IsSequence() || seeds.size() == 0) {
      return YamlError(name, seeds, "seeds is not a list of seeds", "seeds: [1, 2, 3]");
    }
    std::set<int64_t> seen;
    for (const YAML::Node& s : seeds) {
      GF_ASSIGN_OR_RETURN(int64_t seed, ScalarInt(name, s, "a seed", 0, std::numeric_limits<int64_t>::max()));
      if (!seen.insert(seed).second) return YamlError(name, s, absl::StrCat("seed ", seed, " is repeated"), "distinct seeds");
      spec.seeds.push_back(seed);
    }
  }
  GF_RETURN_IF_ERROR(r.Opt("replications", &spec.replications, 1, 10000));
  GF_RETURN_IF_ERROR(r.Finish());
  GF_RETURN_IF_ERROR(CheckPaths(spec));
  double points = static_cast<double>(spec.seeds.empty() ? spec.replications : static_cast<int64_t>(spec.seeds.size()));
  for (const SweepAxis& axis : spec.axes) points *= static_cast<double>(axis.values.size());
  if (points > static_cast<double>(kMaxSweepPoints)) {
    return r.Error(absl::StrFormat("the sweep expands to %.0f points", points),
                   absl::StrCat("at most ", kMaxSweepPoints, " (fewer values, or several sweeps)"));
  }
  return spec;
}

absl::StatusOr<SweepSpec> LoadSweepSpec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read the sweep file"));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseSweepSpec(text.str(), path);
}

std::vector<std::vector<ScenarioOverride>> ExpandConfigurations(const SweepSpec& spec) {
  std::vector<std::vector<ScenarioOverride>> out = {{}};
  for (const SweepAxis& axis : spec.axes) {
    std::vector<std::vector<ScenarioOverride>> next;
    next.reserve(out.size() * axis.values.size());
    for (const auto& prefix : out) {
      for (const auto& step : axis.values) {
        next.push_back(prefix);
        next.back().insert(next.back().end(), step.begin(), step.end());
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace gpufleet
