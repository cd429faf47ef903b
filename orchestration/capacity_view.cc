// See capacity_view.h.
#include "orchestration/capacity_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gpufleet {

absl::Status KeepCapacityPoints(SweepReport* report, const std::string& path, std::optional<double> min_attainment) {
  if (std::find(report->override_paths.begin(), report->override_paths.end(), path) == report->override_paths.end()) {
    return absl::InvalidArgumentError(absl::StrCat("--capacity ", path, ": not an axis of sweep ", report->name,
                                                   "; expected one of: ", absl::StrJoin(report->override_paths, ", ")));
  }
  auto passes = [&](const ReportPoint& p) {
    if (p.seeds.empty()) return false;
    if (!min_attainment) return p.meets_slos;
    const auto it = p.metrics.find("slo_attainment");
    return it != p.metrics.end() && it->second.n > 0 && it->second.mean >= *min_attainment;
  };
  // Groups keyed by the other overrides, in first-seen order.
  std::vector<std::vector<const ReportPoint*>> groups;
  std::map<std::string, size_t> index;
  for (const ReportPoint& p : report->points) {
    if (!p.overrides.contains(path) || !p.overrides[path].is_number()) {
      return absl::InvalidArgumentError(absl::StrCat("--capacity ", path, ": configuration ", p.config,
                                                     " has no numeric value there; expected a numeric load axis"));
    }
    nlohmann::ordered_json rest = p.overrides;
    rest.erase(path);
    auto [it, added] = index.try_emplace(rest.dump(), groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(&p);
  }
  std::vector<ReportPoint> out;
  for (auto& g : groups) {
    std::stable_sort(g.begin(), g.end(), [&](const ReportPoint* a, const ReportPoint* b) {
      return a->overrides[path].get<double>() < b->overrides[path].get<double>();
    });
    const ReportPoint* best = nullptr;
    for (const ReportPoint* p : g) {
      if (!passes(*p)) break;
      best = p;
    }
    ReportPoint kept = best != nullptr ? *best : *g.front();
    kept.meets_slos = best != nullptr;
    out.push_back(std::move(kept));
  }
  report->points = std::move(out);
  return absl::OkStatus();
}

}  // namespace gpufleet
