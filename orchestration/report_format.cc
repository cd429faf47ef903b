// See report_format.h.
#include "orchestration/report_format.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/util/csv_field.h"

namespace gpufleet {
namespace {

std::string ValueText(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// "deployment[0].gpu" -> "gpu", unless another path ends the same way.
std::vector<std::string> ShortNames(const std::vector<std::string>& paths) {
  std::map<std::string, int> count;
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    const size_t dot = p.rfind('.');
    out.push_back(dot == std::string::npos ? p : p.substr(dot + 1));
    ++count[out.back()];
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (count[out[i]] > 1) out[i] = paths[i];
  }
  return out;
}


std::string Number(double v) { return absl::StrFormat("%.6g", v); }

std::string Override(const ReportPoint& p, const std::string& path) {
  return p.overrides.contains(path) ? ValueText(p.overrides[path]) : "";
}

}  // namespace

void KeepPointsMeetingSlos(SweepReport* report) {
  auto& pts = report->points;
  pts.erase(std::remove_if(pts.begin(), pts.end(), [](const ReportPoint& p) { return p.seeds.empty() || !p.meets_slos; }),
            pts.end());
}

void SortPoints(SweepReport* report, const std::string& metric) {
  const bool higher = HigherIsBetter(metric);
  std::stable_sort(report->points.begin(), report->points.end(), [&](const ReportPoint& a, const ReportPoint& b) {
    const auto ia = a.metrics.find(metric), ib = b.metrics.find(metric);
    if (ia == a.metrics.end() || ib == b.metrics.end()) return ia != a.metrics.end() && ib == b.metrics.end();
    return higher ? ia->second.mean > ib->second.mean : ia->second.mean < ib->second.mean;
  });
}

std::string FormatReportTable(const SweepReport& r) {
  std::vector<std::string> header = {"config"};
  for (const std::string& s : ShortNames(r.override_paths)) header.push_back(s);
  header.push_back("runs");
  for (const std::string& m : ReportMetrics()) header.push_back(m);
  std::vector<std::vector<std::string>> rows;
  std::string failures;
  for (const ReportPoint& p : r.points) {
    std::vector<std::string> row = {absl::StrCat(p.config)};
    for (const std::string& path : r.override_paths) row.push_back(Override(p, path));
    row.push_back(absl::StrCat(p.seeds.size(), p.failed > 0 ? absl::StrCat(" (", p.failed, " failed)") : "",
                               p.partial ? " partial" : ""));
    for (const std::string& m : ReportMetrics()) {
      const auto it = p.metrics.find(m);
      if (it == p.metrics.end()) {
        row.push_back("-");
      } else {
        row.push_back(it->second.n >= 2 ? absl::StrFormat("%.4g ±%.2g", it->second.mean, it->second.ci95)
                                        : absl::StrFormat("%.4g", it->second.mean));
      }
    }
    rows.push_back(std::move(row));
    if (p.failed > 0) absl::StrAppend(&failures, "  config ", p.config, ": ", p.error, "\n");
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      absl::StrAppend(&out, c == 0 ? "" : "  ", cells[c], std::string(width[c] - cells[c].size(), ' '));
    }
    out.erase(out.find_last_not_of(' ') + 1);
    return out + "\n";
  };
  std::string out = absl::StrFormat("sweep %s (%s, %s): %d points planned, %d configurations shown%s\n", r.name,
                                    r.sweep_id, r.created_at, r.planned, r.points.size(),
                                    " (values: mean, or mean ±95% CI half-width over seeds)");
  out += line(header);
  for (const auto& row : rows) out += line(row);
  if (!failures.empty()) absl::StrAppend(&out, "failed points (one error each):\n", failures);
  return out;
}

std::string FormatReportCsv(const SweepReport& r) {
  std::vector<std::string> header = {"config"};
  for (const std::string& p : r.override_paths) header.push_back(CsvField(p));
  for (const char* h : {"runs", "failed", "meets_slos", "partial"}) header.emplace_back(h);
  for (const std::string& m : ReportMetrics()) {
    header.push_back(m);
    header.push_back(m + "_ci95");
  }
  std::string out = absl::StrJoin(header, ",") + "\n";
  for (const ReportPoint& p : r.points) {
    std::vector<std::string> row = {absl::StrCat(p.config)};
    for (const std::string& path : r.override_paths) row.push_back(CsvField(Override(p, path)));
    row.push_back(absl::StrCat(p.seeds.size()));
    row.push_back(absl::StrCat(p.failed));
    row.push_back(!p.seeds.empty() && p.meets_slos ? "1" : "0");
    row.push_back(p.partial ? "1" : "0");
    for (const std::string& m : ReportMetrics()) {
      const auto it = p.metrics.find(m);
      row.push_back(it == p.metrics.end() ? "" : Number(it->second.mean));
      row.push_back(it == p.metrics.end() || it->second.n < 2 ? "" : Number(it->second.ci95));
    }
    out += absl::StrJoin(row, ",") + "\n";
  }
  return out;
}

std::string FormatReportJson(const SweepReport& r) {
  nlohmann::ordered_json out;
  out["sweep"] = {{"id", r.sweep_id}, {"name", r.name}, {"created_at", r.created_at}, {"points", r.planned}};
  out["metrics"] = ReportMetrics();
  out["points"] = nlohmann::ordered_json::array();
  for (const ReportPoint& p : r.points) {
    nlohmann::ordered_json j;
    j["config"] = p.config;
    j["overrides"] = p.overrides;
    j["seeds"] = p.seeds;
    j["runs"] = p.seeds.size();
    j["failed"] = p.failed;
    if (p.failed > 0) j["error"] = p.error;
    j["partial"] = p.partial;
    j["meets_slos"] = !p.seeds.empty() && p.meets_slos;
    j["metrics"] = nlohmann::ordered_json::object();
    for (const std::string& m : ReportMetrics()) {
      const auto it = p.metrics.find(m);
      if (it == p.metrics.end()) continue;
      nlohmann::ordered_json s = {{"mean", it->second.mean}};
      if (it->second.n >= 2) s["ci95"] = it->second.ci95;
      s["n"] = it->second.n;
      j["metrics"][m] = s;
    }
    out["points"].push_back(j);
  }
  return out.dump(2) + "\n";
}

}  // namespace gpufleet
