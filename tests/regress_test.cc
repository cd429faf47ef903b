// `gpufleet regress`: tolerances and their file, the comparison's verdicts, the JUnit XML, and the command
// end to end on a tiny suite (a worse policy fails naming the metric, a same-seed rerun passes, a scenario
// missing from the baseline or a bad tolerance file is bad input). No wall-clock thresholds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "orchestration/regress_compare.h"
#include "orchestration/regress_junit.h"
#include "orchestration/regress_runner.h"
#include "orchestration/regress_tolerances.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

// The sweep tests' tiny scenario (about 0.1 s a run) with a batch-size limit: smaller is a worse policy.
std::string Tiny(int max_batch) {
  return std::regex_replace(testing::kTinySweepBase, std::regex("max_batched_tokens: 2048\\}"),
                            "max_batched_tokens: 2048, max_batch_size: " + std::to_string(max_batch) + "}");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Regress(const std::string& base, const std::string& dir, const std::string& extra = "") {
  return "regress --baseline " + base + " --scenarios " + dir + " --jobs 2 " + extra;
}

// Well-formedness of the XML this writer emits: balanced, properly nested elements, quoted attributes,
// only the five predefined entities, no raw '<' or '&' in text. Returns "" or what is wrong.
std::string CheckWellFormed(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  const std::regex entity("^&(amp|lt|gt|quot|apos);");
  while (i < xml.size()) {
    if (xml[i] == '&') {
      if (!std::regex_search(xml.substr(i, 8), entity)) return "bad entity at " + std::to_string(i);
      ++i;
      continue;
    }
    if (xml[i] != '<') {
      if (xml[i] == '>') return "raw '>' at " + std::to_string(i);
      ++i;
      continue;
    }
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    const std::string tag = xml.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.front() == '?') continue;
    if (tag.front() == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
      open.pop_back();
      continue;
    }
    if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
    const bool self_closing = tag.back() == '/';
    std::smatch m;
    const std::string body = self_closing ? tag.substr(0, tag.size() - 1) : tag;
    if (!std::regex_match(body, m, std::regex(R"(([A-Za-z-]+)((\s+[A-Za-z_:-]+="[^"<]*")*)\s*)"))) {
      return "malformed tag: <" + tag + ">";
    }
    if (!self_closing) open.push_back(m[1]);
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

int Attr(const std::string& xml, const std::string& element, const std::string& attr) {
  std::smatch m;
  if (!std::regex_search(xml, m, std::regex("<" + element + "[^>]* " + attr + "=\"([0-9]+)\""))) return -1;
  return std::stoi(m[1]);
}

TEST(RegressTolerance, PercentOrFraction) {
  EXPECT_DOUBLE_EQ(*ParseTolerance("2%", "t"), 0.02);
  EXPECT_DOUBLE_EQ(*ParseTolerance(" 0.5 % ", "t"), 0.005);
  EXPECT_DOUBLE_EQ(*ParseTolerance("0.02", "t"), 0.02);
  EXPECT_DOUBLE_EQ(*ParseTolerance("0", "t"), 0);
  for (const char* bad : {"", "%", "abc", "-1%", "2%%", "nan"}) {
    auto t = ParseTolerance(bad, "--tolerance");
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_NE(t.status().message().find("--tolerance"), std::string::npos);
    }
  }
}

TEST(RegressTolerance, FileOverridesDefaultsAndAddsMetrics) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "tol.yaml", R"(default: {relative: 5%}
metrics:
  slo_attainment: {absolute: 0.01}
  queue_p99_s: {relative: 0.1, better: lower}
  energy_kwh: {skip: true}
)");
  auto t = LoadTolerances(path, std::nullopt);
  ASSERT_TRUE(t.ok()) << t.status();
  std::map<std::string, MetricRule> by;
  for (const MetricRule& r : t->rules) by[r.metric] = r;
  EXPECT_EQ(by.count("energy_kwh"), 0u);
  EXPECT_DOUBLE_EQ(by["ttft_p99_s"].tolerance.relative, 0.05);
  EXPECT_DOUBLE_EQ(by["slo_attainment"].tolerance.absolute, 0.01);
  EXPECT_EQ(by["slo_attainment"].better, Better::kHigher);
  EXPECT_DOUBLE_EQ(by["queue_p99_s"].tolerance.relative, 0.1);
  // --tolerance replaces the default, not what the file sets per metric.
  auto cli = LoadTolerances(path, 0.01);
  ASSERT_TRUE(cli.ok());
  for (const MetricRule& r : cli->rules) {
    if (r.metric == "ttft_p99_s") {
      EXPECT_DOUBLE_EQ(r.tolerance.relative, 0.01);
    }
    if (r.metric == "queue_p99_s") {
      EXPECT_DOUBLE_EQ(r.tolerance.relative, 0.1);
    }
  }
}

TEST(RegressTolerance, FileErrorsAreLocated) {
  const std::string dir = testing::TempDir();
  struct Case {
    const char* text;
    const char* where;
    const char* what;
  } cases[] = {
      {"metrics:\n  ttft_p99: {relative: 2%}\n", "tol.yaml:2:3", "did you mean 'ttft_p99_s'"},
      {"metrics:\n  ttft_p99_s: {relative: lots}\n", "tol.yaml:2:26", "relative"},
      {"metrics:\n  ttft_p99_s: {relativ: 2%}\n", "tol.yaml:2:", "relativ"},
      {"default: {relative: 2%}\nmetric: {}\n", "tol.yaml:2:", "metric"},
      {"metrics: {ttft_p99_s: {absolute: -1}}\n", "tol.yaml:1:", "absolute"},
      {"metrics: [\n", "tol.yaml:", ""},
  };
  for (const Case& c : cases) {
    const std::string path = testing::WriteFile(dir, "tol.yaml", c.text);
    auto t = LoadTolerances(path, std::nullopt);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(c.where), std::string::npos) << t.status();
    EXPECT_NE(t.status().message().find(c.what), std::string::npos) << t.status();
  }
}

TEST(RegressCompare, DirectionsAndTolerances) {
  RunMetrics base, cur;
  base.values = {{"ttft_p99_s", 1.0}, {"slo_attainment", 0.95}, {"goodput_rps", 10.0}, {"cost_usd_per_mtok", 2.0},
                 {"e2e_p99_s", 5.0}, {"tbt_p99_s", std::nullopt}};
  cur.values = {{"ttft_p99_s", 1.015}, {"slo_attainment", 0.93}, {"goodput_rps", 11.0},
                {"cost_usd_per_mtok", std::nullopt},
                {"e2e_p99_s", 5.5}, {"tbt_p99_s", std::nullopt}};
  const std::vector<MetricRule> rules = {
      {"ttft_p99_s", Better::kLower, {0.02, 0}},       // +1.5% within 2%: same
      {"slo_attainment", Better::kHigher, {0, 0.01}},  // -2 points beyond 1 point: worse
      {"goodput_rps", Better::kHigher, {0.02, 0}},     // +10%: better
      {"cost_usd_per_mtok", Better::kLower, {0.02, 0}},  // undefined now: worse
      {"e2e_p99_s", Better::kLower, {0.02, 1.0}},      // +0.5 s within the absolute 1 s: same
      {"tbt_p99_s", Better::kLower, {0.02, 0}},        // undefined in both: same
  };
  std::vector<std::string> notes;
  const auto changes = CompareRuns(base, cur, rules, &notes);
  ASSERT_EQ(changes.size(), rules.size());
  EXPECT_EQ(changes[0].verdict, Verdict::kSame);
  EXPECT_EQ(changes[1].verdict, Verdict::kWorse);
  EXPECT_EQ(changes[2].verdict, Verdict::kBetter);
  EXPECT_EQ(changes[3].verdict, Verdict::kWorse);
  EXPECT_EQ(changes[4].verdict, Verdict::kSame);
  EXPECT_EQ(changes[5].verdict, Verdict::kSame);
  // A latency that fell is better, one that rose beyond tolerance worse; a partial run fails on its own.
  cur.values["ttft_p99_s"] = 0.5;
  cur.partial = true;
  const auto again = CompareRuns(base, cur, rules, &notes);
  EXPECT_EQ(again[0].verdict, Verdict::kBetter);
  EXPECT_EQ(again.back().metric, "partial");
  EXPECT_EQ(again.back().verdict, Verdict::kWorse);
}

TEST(RegressJUnit, EscapedWellFormedAndCounted) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'\x01\n"), "a&lt;b&gt;&amp;&quot;c&apos;?\n");
  ScenarioOutcome ok;
  ok.scenario = "a&b<c>.yaml";
  ok.seed = 1;
  ok.compared = true;
  ok.changes = {{"ttft_p99_s", 1.0, 1.5, Verdict::kWorse, "2%", "ttft_p99_s 1 -> 1.5 (+50.00%; lower is better)"},
                {"goodput_rps", 1.0, 1.0, Verdict::kSame, "2%", ""}};
  ScenarioOutcome failed;
  failed.scenario = "broken\".yaml";
  failed.seed = 2;
  failed.error = "exit code 2: s.yaml:3:1: bad <router> & \"more\"";
  const std::string xml = RegressJUnitXml({ok, failed}, 1.5, "2026-12-01T00:00:00Z");
  EXPECT_EQ(CheckWellFormed(xml), "") << xml;
  EXPECT_EQ(Attr(xml, "testsuite", "tests"), 3);
  EXPECT_EQ(Attr(xml, "testsuite", "failures"), 1);
  EXPECT_EQ(Attr(xml, "testsuite", "errors"), 1);
  EXPECT_NE(xml.find("classname=\"regress.a&amp;b&lt;c&gt;\" name=\"ttft_p99_s\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("bad &lt;router&gt; &amp; &quot;more&quot;"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<router>"), std::string::npos);
}

class RegressCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    suite_ = dir_ + "/suite";
    std::filesystem::create_directories(suite_);
    testing::WriteFile(suite_, "tiny.yaml", Tiny(64));
    testing::WriteFile(suite_, "tolerances.yaml",
                       "default: {relative: 2%}\nmetrics:\n  slo_attainment: {relative: 0, absolute: 0.005}\n");
    base_ = dir_ + "/base.db";
    auto r = testing::RunGpufleet(Regress(base_, suite_, "--update"), true);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(std::filesystem::exists(base_));
  }
  std::string dir_, suite_, base_;
};

TEST_F(RegressCli, SameSeedRerunPassesAndWritesJUnit) {
  const std::string junit = dir_ + "/out.xml", kept = dir_ + "/kept.db";
  auto r = testing::RunGpufleet(Regress(base_, suite_, "--junit " + junit + " --db " + kept));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 metrics worse"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tiny.yaml"), std::string::npos) << r.output;
  const std::string xml = ReadAll(junit);
  EXPECT_EQ(CheckWellFormed(xml), "") << xml;
  EXPECT_EQ(Attr(xml, "testsuite", "tests"), static_cast<int>(DefaultRegressMetrics().size()));
  EXPECT_EQ(Attr(xml, "testsuite", "failures"), 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(kept.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(testing::QueryInt(db, "SELECT COUNT(*) FROM runs"), 1);
  sqlite3_close(db);
}

TEST_F(RegressCli, WorsePolicyFailsNamingTheMetric) {
  // The same file name in another folder, its batch limited to 2 sequences: requests queue.
  const std::string worse = dir_ + "/worse";
  std::filesystem::create_directories(worse);
  testing::WriteFile(worse, "tiny.yaml", Tiny(2));
  const std::string junit = dir_ + "/worse.xml";
  auto r = testing::RunGpufleet(Regress(base_, worse, "--junit " + junit), true);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("gpufleet: regression: tiny.yaml (seed 1): ttft_p99_s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("WORSE"), std::string::npos) << r.output;
  const std::string xml = ReadAll(junit);
  EXPECT_EQ(CheckWellFormed(xml), "") << xml;
  EXPECT_GE(Attr(xml, "testsuite", "failures"), 1);
  EXPECT_NE(xml.find("name=\"ttft_p99_s\" file=\"tiny.yaml\">\n      <failure"), std::string::npos) << xml;
  // A generous tolerance forgives it (the suite has no tolerance file: --tolerance is every metric's).
  auto loose = testing::RunGpufleet(Regress(base_, worse, "--tolerance 100000%"), true);
  EXPECT_EQ(loose.exit_code, 0) << loose.output;
}

TEST_F(RegressCli, ScenarioMissingFromBaselineIsBadInputWithAHint) {
  testing::WriteFile(suite_, "new.yaml", Tiny(64));
  auto r = testing::RunGpufleet(Regress(base_, suite_), true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("new.yaml (seed 1)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--update"), std::string::npos) << r.output;
  // Another seed is another run the baseline lacks.
  std::filesystem::remove(suite_ + "/new.yaml");
  auto seeded = testing::RunGpufleet(Regress(base_, suite_, "--seed 9"), true);
  EXPECT_EQ(seeded.exit_code, 2) << seeded.output;
  EXPECT_NE(seeded.output.find("tiny.yaml (seed 9)"), std::string::npos) << seeded.output;
}

TEST_F(RegressCli, BadInputExits2) {
  auto missing = testing::RunGpufleet(Regress(dir_ + "/none.db", suite_), true);
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("--update"), std::string::npos) << missing.output;
  testing::WriteFile(dir_, "bad.yaml", "metrics:\n  ttft_p99_s: {relative: 2%, better: sideways}\n");
  auto tol = testing::RunGpufleet(Regress(base_, suite_, "--tolerances " + dir_ + "/bad.yaml"), true);
  EXPECT_EQ(tol.exit_code, 2) << tol.output;
  EXPECT_NE(tol.output.find("bad.yaml:2:"), std::string::npos) << tol.output;
  auto flag = testing::RunGpufleet(Regress(base_, suite_, "--tolerance lots"), true);
  EXPECT_EQ(flag.exit_code, 2) << flag.output;
  auto dir = testing::RunGpufleet(Regress(base_, dir_ + "/nowhere"), true);
  EXPECT_EQ(dir.exit_code, 2) << dir.output;
  // --update never replaces a file that is not a run database.
  const std::string notes = testing::WriteFile(dir_, "notes.db", "not a database\n");
  auto foreign = testing::RunGpufleet(Regress(notes, suite_, "--update"), true);
  EXPECT_EQ(foreign.exit_code, 2) << foreign.output;
  EXPECT_EQ(ReadAll(notes), "not a database\n");
}

// The checked-in suite: its tolerance file loads, it finds its scenarios, and each one is valid.
TEST(RegressSuite, CheckedInFilesAreValid) {
  const std::string dir = std::string(GPUFLEET_SOURCE_DIR) + "/scenarios/regress";
  auto tol = LoadTolerances(dir + "/tolerances.yaml", std::nullopt);
  ASSERT_TRUE(tol.ok()) << tol.status();
  auto suite = FindRegressScenarios(dir, "", std::nullopt);
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_GE(suite->size(), 3u);
  for (const RegressScenario& s : *suite) {
    EXPECT_NE(s.name, "tolerances.yaml");
    auto r = testing::RunGpufleet("simulate " + s.path + " --check", true);
    EXPECT_EQ(r.exit_code, 0) << s.path << ": " << r.output;
  }
}

TEST_F(RegressCli, FailedSimulationFailsAndUpdateKeepsTheBaseline) {
  // Same file name and seed, but a GPU the node does not have: the child exits 2.
  const std::string broken = dir_ + "/broken";
  std::filesystem::create_directories(broken);
  testing::WriteFile(broken, "tiny.yaml",
                     std::regex_replace(Tiny(64), std::regex("gpu: H100-SXM-80GB"), "gpu: A100-SXM-80GB"));
  const std::string before = ReadAll(base_), junit = dir_ + "/broken.xml";
  auto r = testing::RunGpufleet(Regress(base_, broken, "--junit " + junit), true);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("tiny.yaml (seed 1): simulation failed: exit code 2"), std::string::npos) << r.output;
  const std::string xml = ReadAll(junit);
  EXPECT_EQ(CheckWellFormed(xml), "") << xml;
  EXPECT_EQ(Attr(xml, "testsuite", "errors"), 1);
  auto update = testing::RunGpufleet(Regress(base_, broken, "--update"), true);
  EXPECT_EQ(update.exit_code, 1) << update.output;
  EXPECT_EQ(ReadAll(base_), before);
}

}  // namespace
}  // namespace gpufleet
