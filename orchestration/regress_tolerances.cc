// See regress_tolerances.h. The file is read with the scenario loader's located readers (sim/util/
// yaml_fields.h): a typo in a key or a metric name is an error at its line and column, with a did-you-mean.
#include "orchestration/regress_tolerances.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/util/status_macros.h"
#include "sim/util/yaml_fields.h"

namespace gpufleet {
namespace {

constexpr const char* kToleranceForm = "a fraction such as 0.02 or a percentage such as 2%";

// A tolerance value of the file: a number (0.02) or a percentage string (2%), located on error.
absl::StatusOr<double> ReadFraction(const std::string& file, const YAML::Node& node, const std::string& what) {
  GF_ASSIGN_OR_RETURN(std::string text, ScalarString(file, node, what));
  auto v = ParseTolerance(text, what);
  if (!v.ok()) return YamlError(file, node, absl::StrCat(what, " is '", text, "'"), kToleranceForm);
  return *v;
}

absl::StatusOr<double> ReadAbsolute(const std::string& file, const YAML::Node& node, const std::string& what) {
  GF_ASSIGN_OR_RETURN(double v, ScalarDouble(file, node, what, 0, 1e300));
  return v;
}

std::string PercentText(double fraction) { return absl::StrFormat("%.6g%%", fraction * 100); }

// One `{relative, absolute, better, skip}` mapping over `tol` and `better` (left as they are when absent).
absl::Status ReadEntry(const std::string& file, const YAML::Node& node, const std::string& what, bool allow_metric_keys,
                       Tolerance* tol, std::optional<Better>* better, bool* skip) {
  GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file, node, what));
  if (YAML::Node rel = r.Raw("relative"); rel.IsDefined() && !rel.IsNull()) {
    GF_ASSIGN_OR_RETURN(tol->relative, ReadFraction(file, rel, what + ".relative"));
  }
  if (YAML::Node abs = r.Raw("absolute"); abs.IsDefined() && !abs.IsNull()) {
    GF_ASSIGN_OR_RETURN(tol->absolute, ReadAbsolute(file, abs, what + ".absolute"));
  }
  if (allow_metric_keys) {
    std::string dir;
    GF_RETURN_IF_ERROR(r.OptEnum("better", {"lower", "higher"}, &dir));
    if (!dir.empty()) *better = dir == "lower" ? Better::kLower : Better::kHigher;
    GF_RETURN_IF_ERROR(r.Opt("skip", skip));
  }
  return r.Finish();
}

std::vector<std::string> DefaultNames() {
  std::vector<std::string> names;
  for (const auto& [m, b] : DefaultRegressMetrics()) names.push_back(m);
  return names;
}

}  // namespace

double Tolerance::Allowance(double baseline) const { return std::max(relative * std::fabs(baseline), absolute); }

std::string Tolerance::Describe() const {
  if (absolute <= 0) return PercentText(relative);
  if (relative <= 0) return absl::StrFormat("%.6g abs", absolute);
  return absl::StrCat(PercentText(relative), " or ", absl::StrFormat("%.6g abs", absolute));
}

const std::vector<std::pair<std::string, Better>>& DefaultRegressMetrics() {
  static const std::vector<std::pair<std::string, Better>> metrics = {
      {"ttft_p50_s", Better::kLower},        {"ttft_p99_s", Better::kLower},
      {"tbt_p50_s", Better::kLower},         {"tbt_p99_s", Better::kLower},
      {"e2e_p50_s", Better::kLower},         {"e2e_p99_s", Better::kLower},
      {"slo_attainment", Better::kHigher},   {"goodput_rps", Better::kHigher},
      {"throughput_tok_s", Better::kHigher}, {"cost_usd_per_mtok", Better::kLower},
      {"energy_kwh", Better::kLower},
  };
  return metrics;
}

absl::StatusOr<double> ParseTolerance(std::string_view text, std::string_view what) {
  std::string t(text);
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!t.empty() && space(t.back())) t.pop_back();
  t.erase(t.begin(), std::find_if_not(t.begin(), t.end(), space));
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  while (!t.empty() && space(t.back())) t.pop_back();
  double v = 0;
  if (t.empty() || !absl::SimpleAtod(t, &v) || !std::isfinite(v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " '", std::string(text), "': expected ",
                                                   kToleranceForm, " (>= 0)"));
  }
  return percent ? v / 100 : v;
}

RegressTolerances DefaultTolerances(double relative) {
  RegressTolerances out;
  for (const auto& [m, b] : DefaultRegressMetrics()) out.rules.push_back({m, b, Tolerance{relative, 0}});
  return out;
}

absl::StatusOr<RegressTolerances> LoadTolerances(const std::string& path, std::optional<double> cli_relative) {
  auto root = LoadYamlFile(path);
  if (!root.ok()) return absl::InvalidArgumentError(root.status().message());
  GF_ASSIGN_OR_RETURN(MapReader top, MapReader::Make(path, *root, "tolerance file"));
  GF_RETURN_IF_ERROR(top.ExpectOnly({"default", "metrics"}));
  Tolerance fallback;
  std::optional<Better> unused;
  bool unused_skip = false;
  if (YAML::Node d = top.Raw("default"); d.IsDefined() && !d.IsNull()) {
    GF_RETURN_IF_ERROR(ReadEntry(path, d, "default", false, &fallback, &unused, &unused_skip));
  }
  if (cli_relative) fallback.relative = *cli_relative;
  RegressTolerances out;
  out.file = path;
  for (const auto& [m, b] : DefaultRegressMetrics()) out.rules.push_back({m, b, fallback});
  YAML::Node metrics = top.Raw("metrics");
  if (metrics.IsDefined() && !metrics.IsNull()) {
    if (!metrics.IsMap()) return YamlError(path, metrics, "metrics is not a mapping", "metric: {relative: 2%}");
    const std::vector<std::string> known = DefaultNames();
    for (auto it = metrics.begin(); it != metrics.end(); ++it) {
      GF_ASSIGN_OR_RETURN(std::string name, ScalarString(path, it->first, "a metric name"));
      auto rule = std::find_if(out.rules.begin(), out.rules.end(),
                               [&](const MetricRule& r) { return r.metric == name; });
      Tolerance tol = rule != out.rules.end() ? rule->tolerance : fallback;
      std::optional<Better> better;
      bool skip = false;
      GF_RETURN_IF_ERROR(ReadEntry(path, it->second, "metrics." + name, true, &tol, &better, &skip));
      if (skip) {
        if (rule != out.rules.end()) out.rules.erase(rule);
        continue;
      }
      if (rule == out.rules.end()) {
        if (!better) {
          const std::string near = ClosestMatch(name, known);
          return YamlError(path, it->first,
                           absl::StrCat("metric '", name, "' is not one of the built-in metrics",
                                        near.empty() ? "" : absl::StrCat(" (did you mean '", near, "'?)")),
                           "a built-in metric, or `better: lower` / `better: higher` for another run_summary column");
        }
        out.rules.push_back({name, *better, tol});
      } else {
        rule->tolerance = tol;
        if (better) rule->better = *better;
      }
    }
  }
  GF_RETURN_IF_ERROR(top.Finish());
  return out;
}

}  // namespace gpufleet
