// See regress_junit.h.
#include "orchestration/regress_junit.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace gpufleet {
namespace {

std::string ClassName(const std::string& scenario) {
  return absl::StrCat("regress.", absl::StrReplaceAll(std::filesystem::path(scenario).stem().string(), {{".", "_"}}));
}

std::string Value(const std::optional<double>& v) { return v ? absl::StrFormat("%.9g", *v) : "undefined"; }

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        out += (c < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || c == 0x7f ? '?' : ch;
    }
  }
  return out;
}

std::string RegressJUnitXml(const std::vector<ScenarioOutcome>& outcomes, double wall_s, const std::string& timestamp) {
  int tests = 0, failures = 0, errors = 0;
  std::string cases;
  for (const ScenarioOutcome& o : outcomes) {
    const std::string cls = XmlEscape(ClassName(o.scenario));
    if (!o.error.empty()) {
      ++tests;
      ++errors;
      const std::string msg = absl::StrCat(o.scenario, " (seed ", o.seed, "): simulation failed: ", o.error);
      absl::StrAppend(&cases, "    <testcase classname=\"", cls, "\" name=\"simulate\" file=\"", XmlEscape(o.scenario),
                      "\">\n      <error type=\"simulation\" message=\"", XmlEscape(msg), "\">", XmlEscape(msg),
                      "</error>\n    </testcase>\n");
      continue;
    }
    const std::string notes = o.notes.empty() ? "" : absl::StrCat("\nnotes: ", absl::StrJoin(o.notes, "; "));
    for (const MetricChange& c : o.changes) {
      ++tests;
      absl::StrAppend(&cases, "    <testcase classname=\"", cls, "\" name=\"", XmlEscape(c.metric), "\" file=\"",
                      XmlEscape(o.scenario), "\">\n");
      const std::string body = absl::StrCat("scenario ", o.scenario, ", seed ", o.seed, ", metric ", c.metric,
                                            ": baseline ", Value(c.baseline), ", current ", Value(c.current),
                                            ", tolerance ", c.tolerance, ", verdict ", VerdictName(c.verdict), notes);
      if (c.verdict == Verdict::kWorse) {
        ++failures;
        absl::StrAppend(&cases, "      <failure type=\"regression\" message=\"", XmlEscape(DescribeFailure(o, c)),
                        "\">", XmlEscape(body), "</failure>\n");
      } else {
        absl::StrAppend(&cases, "      <system-out>", XmlEscape(body), "</system-out>\n");
      }
      absl::StrAppend(&cases, "    </testcase>\n");
    }
  }
  const std::string counts = absl::StrFormat("tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"0\" time=\"%.3f\"",
                                             tests, failures, errors, wall_s);
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gpufleet regress\" ", counts,
                      ">\n  <testsuite name=\"gpufleet regress\" ", counts, " timestamp=\"", XmlEscape(timestamp),
                      "\">\n", cases, "  </testsuite>\n</testsuites>\n");
}

}  // namespace gpufleet
