// `gpufleet regress --junit FILE`: the suite's outcome as JUnit XML, the report format CI systems read
// (GitLab's test report, Jenkins' junit step, GitHub actions that publish test results). One <testsuite>;
// one <testcase> per scenario x metric, classname "regress.SCENARIO" (dots of the file name replaced, since
// Jenkins splits class names at dots) and name the metric, so a CI page lists each metric that got worse by
// name; a WORSE metric carries a <failure>, a scenario whose simulation failed one <testcase name="simulate">
// with an <error>. Every text is XML-escaped, and characters XML 1.0 cannot hold are replaced.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "orchestration/regress_compare.h"

namespace gpufleet {

// `text` with & < > " ' escaped and control characters (but tab, newline, carriage return) replaced by '?'.
std::string XmlEscape(std::string_view text);

// The whole XML document. `wall_s`: the suite's wall time; `timestamp`: ISO 8601 UTC.
std::string RegressJUnitXml(const std::vector<ScenarioOutcome>& outcomes, double wall_s, const std::string& timestamp);

}  // namespace gpufleet
