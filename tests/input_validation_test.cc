// Bad input found by the reliability audit (issue 16) is refused at load time with its location and exit
// code 2: bytes that are not UTF-8, repeated YAML keys, a second YAML document, trace arrivals that are
// huge or would overflow once reshaped, and a gap between trace rows that only a mistyped date explains.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/util/yaml_fields.h"
#include "tests/test_util.h"
#include "traces/arrival_gaps.h"
#include "traces/civil_time.h"
#include "traces/reshape_streams.h"
#include "traces/workload_stream.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

constexpr double kInf = std::numeric_limits<double>::infinity();

const char* kScenario = R"(name: t
seed: 1
horizon_s: 10
cluster:
  nodes:
    - type: DGX-H100
      count: 1
model: Llama-2-7B
deployment:
  - name: g
    gpu: H100-SXM-80GB
    scheduler: {type: vllm, watermark: 0.01}
workload:
  synthetic:
    rate_rps: 1
    prompt_tokens: {dist: fixed, value: 100}
    output_tokens: {dist: fixed, value: 10}
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

// The load error's message, which must start with "s.yaml:LOCATION: " and contain `words`.
void ExpectLoadError(const std::string& text, const std::string& location, const std::string& words) {
  auto s = LoadScenarioFromString(text, "s.yaml", ".", RealCatalog());
  ASSERT_FALSE(s.ok()) << "loaded but should not have";
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  const std::string msg(s.status().message());
  EXPECT_EQ(msg.rfind("s.yaml:" + location + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(words), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------------------------------
// UTF-8

TEST(InputUtf8, InvalidBytesAnywhereAreRefusedWithTheirPosition) {
  ASSERT_TRUE(LoadScenarioFromString(kScenario, "s.yaml", ".", RealCatalog()).ok());
  ExpectLoadError(Replace(kScenario, "name: t", "name: \"caf\xff\""), "1:11", "invalid UTF-8 (byte 0xFF)");
  ExpectLoadError(Replace(kScenario, "  - name: g", "  - name: g\xc3("), "10:12", "invalid UTF-8 (byte 0xC3)");
  // A key, an enum value, a list item, a path and a comment: the whole text is checked.
  ExpectLoadError(Replace(kScenario, "seed: 1", "se\xe9" "d: 1"), "2:3", "invalid UTF-8");
  ExpectLoadError(Replace(kScenario, "type: vllm", "type: vll\x80"), "12:26", "invalid UTF-8 (byte 0x80)");
  ExpectLoadError(Replace(kScenario, "seed: 1", "seed: 1  # na\xefve"), "2:14", "invalid UTF-8");
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80"}) {
    ExpectLoadError(Replace(kScenario, "name: t", std::string("name: t") + bad), "1:8", "invalid UTF-8");
  }
}

TEST(InputUtf8, ValidUtf8PassesAndReachesTheJsonReport) {
  const std::string dir = testing::TempDir();
  const std::string name = "Überlast – テスト 🚀";
  const std::string path = testing::WriteFile(dir, "s.yaml", Replace(kScenario, "name: t", "name: \"" + name + "\""));
  auto r = testing::RunGpufleet("simulate " + path + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["scenario"], name);
}

TEST(InputUtf8, ScalarsBuiltInCodeAreCheckedToo) {
  YAML::Node node = YAML::Load("{name: x}");
  node["name"] = std::string("a\xff");
  auto reader = MapReader::Make("f.yaml", node, "m");
  ASSERT_TRUE(reader.ok());
  std::string out;
  absl::Status s = reader->Get("name", &out);
  EXPECT_NE(std::string(s.message()).find("invalid UTF-8"), std::string::npos) << s;
}

TEST(InputUtf8, CliExitsTwoBeforeRunning) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "s.yaml", Replace(kScenario, "  - name: g", "  - name: \"g\xfe\""));
  auto r = testing::RunGpufleet("simulate " + path + " --json", /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(path + ":10:13: invalid UTF-8"), std::string::npos) << r.output;
}

// ---------------------------------------------------------------------------------------------------
// Duplicate keys and extra documents

TEST(InputYamlStructure, DuplicateKeysAtEveryDepth) {
  ExpectLoadError(kScenario + std::string("seed: 2\n"), "18:1", "duplicate key 'seed' (first at line 2, column 1)");
  ExpectLoadError(Replace(kScenario, "      count: 1", "      count: 1\n      count: 2"), "8:7",
                  "duplicate key 'count' (first at line 7, column 7)");
  ExpectLoadError(Replace(kScenario, "watermark: 0.01}", "watermark: 0.01, watermark: 0.2}"), "12:46",
                  "duplicate key 'watermark'");
  ExpectLoadError(Replace(kScenario, "    rate_rps: 1", "    rate_rps: 1\n    rate_rps: 1"), "16:5",
                  "duplicate key 'rate_rps'");
  // The same key in different mappings is fine.
  EXPECT_TRUE(LoadScenarioFromString(Replace(kScenario, "name: t", "name: t\nprices: {gpu_usd_per_hour: {L4: 1}, "
                                                                   "node_usd_per_hour: {DGX-H100: 2}}"),
                                     "s.yaml", ".", RealCatalog())
                  .ok());
}

TEST(InputYamlStructure, ASecondDocumentIsAnError) {
  ExpectLoadError(kScenario + std::string("---\nseed: 2\n"), "18:1", "a second YAML document starts here");
  ExpectLoadError(kScenario + std::string("---\n"), "18:1", "a second YAML document");
  ExpectLoadError(kScenario + std::string("...\nseed: 2\n"), "19:1", "a second YAML document");
  // A leading '---', a closing '...' and comments are one document.
  EXPECT_TRUE(LoadScenarioFromString("---\n" + std::string(kScenario) + "...\n# end\n", "s.yaml", ".", RealCatalog()).ok());
}

TEST(InputYamlStructure, StrayTokenAfterTheDocumentEnds) {
  // yaml-cpp 0.7's LoadAll never returns on this (sim/util/yaml_load_all.h); it must be an error.
  auto s = LoadYamlString("a: [1]\n,\n", "f.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message()).rfind("f.yaml:2:1: YAML syntax error", 0), 0u) << s.status();
}

TEST(InputYamlStructure, AliasesAreWalkedOnceAndCyclesEnd) {
  auto ok = LoadYamlString("a: &x {k: 1, j: 2}\nb: *x\nc: [*x, *x]\n", "f.yaml");
  EXPECT_TRUE(ok.ok()) << ok.status();
  auto cycle = LoadYamlString("&a [*a, {k: 1, k: 2}]\n", "f.yaml");
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(std::string(cycle.status().message()).find("f.yaml:1:16: duplicate key 'k'"), std::string::npos)
      << cycle.status();
}

TEST(InputYamlStructure, CatalogFilesAreCheckedToo) {
  const std::string dir = testing::TempDir();
  for (const auto& f : std::filesystem::directory_iterator(Catalog::DefaultDir())) {
    std::filesystem::copy(f.path(), dir + "/" + f.path().filename().string());
  }
  std::ofstream(dir + "/llms.yaml", std::ios::app) << "---\n";
  auto catalog = Catalog::LoadFromDir(dir);
  ASSERT_FALSE(catalog.ok());
  EXPECT_NE(std::string(catalog.status().message()).find("llms.yaml:"), std::string::npos) << catalog.status();
  EXPECT_NE(std::string(catalog.status().message()).find("a second YAML document"), std::string::npos);
  auto r = testing::RunGpufleet("catalog gpus --catalog " + dir, /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(InputYamlStructure, CliExitsTwo) {
  const std::string dir = testing::TempDir();
  const std::string dup = testing::WriteFile(dir, "dup.yaml", kScenario + std::string("horizon_s: 20\n"));
  auto r = testing::RunGpufleet("simulate " + dup + " --check", /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(dup + ":18:1: duplicate key 'horizon_s'"), std::string::npos) << r.output;
  const std::string two = testing::WriteFile(dir, "two.yaml", kScenario + std::string("---\nseed: 2\n"));
  r = testing::RunGpufleet("simulate " + two, /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(two + ":18:1: a second YAML document"), std::string::npos) << r.output;
}

// ---------------------------------------------------------------------------------------------------
// Trace arrivals: bounded, finite after every step, no gaps that only a typo explains

WorkloadSpec Trace(const std::string& path, const std::string& format) {
  WorkloadSpec spec;
  spec.source = WorkloadSpec::Source::kTrace;
  spec.trace_path = path;
  spec.trace_format = format;
  return spec;
}

// Drains the workload; the first error, or OK.
absl::Status DrainStatus(const WorkloadSpec& spec, std::vector<TraceRequest>* out = nullptr) {
  auto stream = MakeRequestStream(spec, 1, kInf);
  if (!stream.ok()) return stream.status();
  TraceRequest r;
  for (;;) {
    absl::StatusOr<bool> more = (*stream)->Next(&r);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    EXPECT_TRUE(std::isfinite(r.arrival_s));
    if (out != nullptr) out->push_back(r);
  }
}

// `n` Azure rows `gap_s` apart from 2023-11-16 18:00:00, as text lines (no header).
std::vector<std::string> AzureRows(int n, double gap_s) {
  std::vector<std::string> rows;
  CivilTimestamp t{DaysFromCivil(2023, 11, 16) * 86400 + 18 * 3600, 0};
  for (int i = 0; i < n; ++i) {
    const int64_t ns = static_cast<int64_t>(std::llround(i * gap_s * 1e9));
    CivilTimestamp ti{t.seconds + ns / 1000000000, static_cast<int32_t>(ns % 1000000000)};
    rows.push_back(FormatCivilTimestamp(ti) + ",100,10");
  }
  return rows;
}

std::string AzureFile(const std::vector<std::string>& rows) {
  std::string text = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  for (const auto& r : rows) absl::StrAppend(&text, r, "\n");
  return text;
}

std::string Year(std::string row, const std::string& year) { return row.replace(0, 4, year); }

TEST(InputTraceArrivals, FormatCivilTimestampInvertsTheParser) {
  for (const char* text : {"2023-11-16 18:15:46.6805900", "1969-12-31 23:59:59.0000000", "2024-02-29 00:00:00.0000001",
                           "2000-03-01 12:00:00.123456789", "9999-12-31 23:59:59.9999999"}) {
    CivilTimestamp t;
    ASSERT_TRUE(ParseCivilTimestamp(text, &t)) << text;
    EXPECT_EQ(FormatCivilTimestamp(t), text);
  }
}

TEST(InputTraceArrivals, HugeNativeArrivalIsARowErrorEvenSuperposed) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "t.csv", "arrival_s,prompt_tokens,output_tokens\n0,5,5\n1,5,5\n1.79e308,5,5\n");
  for (int copies : {1, 3}) {
    WorkloadSpec spec = Trace(path, "native");
    spec.superpose = copies;
    absl::Status s = DrainStatus(spec);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(std::string(s.message()).rfind(path + ":4: arrival_s is '1.79e308'; expected a number of seconds >= 0 "
                                             "and at most 1e9 s", 0),
              0u)
        << s;
  }
  // The bound itself is accepted.
  testing::WriteFile(dir, "t.csv", "arrival_s,prompt_tokens,output_tokens\n0,5,5\n1e9,5,5\n");
  WorkloadSpec spec = Trace(path, "native");
  spec.max_gap_s = kInf;
  EXPECT_TRUE(DrainStatus(spec).ok());
}

TEST(InputTraceArrivals, RateMultiplierCannotOverflow) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "t.csv", "arrival_s,prompt_tokens,output_tokens\n0,5,5\n1e303,5,5\n");
  WorkloadSpec spec = Trace(path, "native");
  spec.rate_multiplier = 1e-6;
  absl::Status s = DrainStatus(spec);
  EXPECT_EQ(std::string(s.message()).rfind(path + ":3: arrival_s is '1e303'", 0), 0u) << s;
}

// A source that hands out a given arrival, to reach the reshaping steps' own checks.
class FixedArrival : public RequestStream {
 public:
  explicit FixedArrival(double t) : t_(t) {}
  absl::StatusOr<bool> Next(TraceRequest* out) override {
    if (done_) return false;
    done_ = true;
    out->arrival_s = t_;
    out->prompt_tokens = out->output_tokens = 1;
    return true;
  }
  double Progress() const override { return -1; }

 private:
  double t_;
  bool done_ = false;
};

TEST(InputTraceArrivals, EveryReshapingStepChecksItsResult) {
  auto stream = MakeRateMultipliedStream(std::make_unique<FixedArrival>(1e303), 1e-6);
  TraceRequest r;
  absl::StatusOr<bool> more = stream->Next(&r);
  ASSERT_FALSE(more.ok());
  EXPECT_NE(std::string(more.status().message()).find("rate_multiplier turned an arrival at 1e+303 s into inf s"),
            std::string::npos)
      << more.status();
}

TEST(InputTraceArrivals, YearTypoInTheLastRowIsRefused) {
  const std::string dir = testing::TempDir();
  std::vector<std::string> rows = AzureRows(100, 0.5);
  const std::string good_last = rows.back();
  rows.back() = Year(rows.back(), "2033");
  const std::string path = testing::WriteFile(dir, "t.csv", AzureFile(rows));
  for (int copies : {1, 3}) {
    WorkloadSpec spec = Trace(path, "azure");
    spec.superpose = copies;
    absl::Status s = DrainStatus(spec);
    const std::string msg(s.message());
    EXPECT_EQ(msg.rfind(path + ":101: TIMESTAMP '2033-11-16 18:00:49.5000000' follows the previous row's "
                               "'2023-11-16 18:00:49.0000000' by 315619200.5 s; expected gaps of at most 3600 s",
                        0),
              0u)
        << msg;
    EXPECT_NE(msg.find("workload.trace.max_gap_s"), std::string::npos) << msg;
  }
}

TEST(InputTraceArrivals, YearTypoInTheFirstRowIsRefused) {
  const std::string dir = testing::TempDir();
  std::vector<std::string> rows = AzureRows(100, 0.5);
  rows.front() = Year(rows.front(), "2013");
  const std::string path = testing::WriteFile(dir, "t.csv", AzureFile(rows));
  absl::Status s = DrainStatus(Trace(path, "azure"));
  EXPECT_EQ(std::string(s.message()).rfind(path + ":3: TIMESTAMP '2023-11-16 18:00:00.5000000' follows the previous "
                                                  "row's '2013-11-16 18:00:00.0000000'",
                                           0),
            0u)
      << s;
  // Also in a trace too short to finish the warm-up, judged at its end.
  rows.resize(6);
  testing::WriteFile(dir, "t.csv", AzureFile(rows));
  EXPECT_EQ(std::string(DrainStatus(Trace(path, "azure")).message()).rfind(path + ":3: ", 0), 0u);
}

TEST(InputTraceArrivals, FarOffDateIsRefusedByTheBound) {
  const std::string dir = testing::TempDir();
  std::vector<std::string> rows = AzureRows(5, 1);
  rows.back() = Year(rows.back(), "9023");
  const std::string path = testing::WriteFile(dir, "t.csv", AzureFile(rows));
  for (int copies : {1, 2}) {
    WorkloadSpec spec = Trace(path, "azure");
    spec.superpose = copies;
    spec.max_gap_s = kInf;
    absl::Status s = DrainStatus(spec);
    EXPECT_EQ(std::string(s.message()).rfind(path + ":6: TIMESTAMP '9023-11-16 18:00:04.0000000' is ", 0), 0u) << s;
    EXPECT_NE(std::string(s.message()).find("expected at most 1e9 s (about 31.7 years)"), std::string::npos) << s;
  }
}

TEST(InputTraceArrivals, GapRuleScalesWithTheTracesPace) {
  // Rows a minute apart: 1000 x the median is ~18 h, so a 10-hour lull is in keeping with the trace.
  std::string text = "arrival_s,prompt_tokens,output_tokens\n";
  double t = 0;
  for (int i = 0; i < 40; ++i, t += 60) absl::StrAppend(&text, t, ",5,5\n");
  absl::StrAppend(&text, t + 36000, ",5,5\n");
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "t.csv", text);
  EXPECT_TRUE(DrainStatus(Trace(path, "native")).ok());
  // Rows a tenth of a second apart: the floor of one hour applies; equal timestamps do not lower it.
  text = "arrival_s,prompt_tokens,output_tokens\n";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&text, absl::StrFormat("%.6f,5,5\n%.6f,5,5\n", i * 0.125, i * 0.125));
  testing::WriteFile(dir, "t.csv", absl::StrFormat("%s%.6f,5,5\n", text, 39 * 0.125 + 3599));
  EXPECT_TRUE(DrainStatus(Trace(path, "native")).ok());
  testing::WriteFile(dir, "t.csv", absl::StrFormat("%s%.6f,5,5\n", text, 39 * 0.125 + 3601));
  absl::Status s = DrainStatus(Trace(path, "native"));
  EXPECT_EQ(std::string(s.message()).rfind(path + ":82: arrival_s ", 0), 0u) << s;
  EXPECT_NE(std::string(s.message()).find("by 3601 s; expected gaps of at most 3600 s"), std::string::npos) << s;
}

TEST(InputTraceArrivals, MaxGapKeySetsOrLiftsTheLimit) {
  const std::string dir = testing::TempDir();
  std::vector<std::string> rows = AzureRows(100, 0.5);
  rows.back() = Year(rows.back(), "2033");
  const std::string path = testing::WriteFile(dir, "t.csv", AzureFile(rows));
  WorkloadSpec spec = Trace(path, "azure");
  spec.max_gap_s = 4e8;
  std::vector<TraceRequest> got;
  ASSERT_TRUE(DrainStatus(spec, &got).ok());
  EXPECT_NEAR(got.back().arrival_s, 315619249.5, 1e-3);
  spec.max_gap_s = kInf;
  EXPECT_TRUE(DrainStatus(spec).ok());
  // A fixed limit is applied as is, shorter than the default too.
  spec.max_gap_s = 0.25;
  absl::Status s = DrainStatus(spec);
  EXPECT_EQ(std::string(s.message()).rfind(path + ":3: ", 0), 0u) << s;
  EXPECT_NE(std::string(s.message()).find("expected gaps of at most 0.25 s (workload.trace.max_gap_s)"),
            std::string::npos)
      << s;
  // Resampled lengths ignore times: no gap rule there.
  WorkloadSpec synth;
  synth.rate_rps = 1;
  synth.max_requests = 5;
  synth.resample_path = path;
  synth.resample_format = "azure";
  EXPECT_TRUE(DrainStatus(synth).ok());
}

TEST(InputTraceArrivals, ScenarioKeyAndCli) {
  const std::string dir = testing::TempDir();
  std::vector<std::string> rows = AzureRows(100, 0.5);
  rows.back() = Year(rows.back(), "2033");
  testing::WriteFile(dir, "typo.csv", AzureFile(rows));
  testing::WriteFile(dir, "huge.csv", "arrival_s,prompt_tokens,output_tokens\n0,5,5\n1,5,5\n1.79e308,5,5\n");
  testing::WriteFile(dir, "big.csv", "arrival_s,prompt_tokens,output_tokens\n0,5,5\n1e303,5,5\n");
  const std::string head = R"(seed: 1
cluster: {nodes: [{type: DGX-H100}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB}]
)";
  struct Case {
    const char* workload;
    int exit_code;
    const char* words;
  };
  for (const Case& c : {Case{"{trace: {path: huge.csv, format: native, superpose: 3}}", 2, "huge.csv:4: arrival_s is '1.79e308'"},
                        Case{"{trace: {path: big.csv, format: native}, rate_multiplier: 1e-6}", 2, "big.csv:3: arrival_s is '1e303'"},
                        Case{"{trace: {path: typo.csv, format: azure}}", 2, "typo.csv:101: TIMESTAMP '2033-11-16"},
                        Case{"{trace: {path: typo.csv, format: azure, max_gap_s: 4e8}}", 0, "\"requests_arrived\": 100"},
                        Case{"{trace: {path: typo.csv, format: azure, max_gap_s: .inf}}", 0, "\"requests_arrived\": 100"},
                        Case{"{trace: {path: typo.csv, format: azure, max_gap_s: 0}}", 2, "s.yaml:5:62: workload.trace.max_gap_s is 0, out of range"},
                        // A synthetic source would generate 1.6e10 requests only to drop them before the window.
                        Case{"{synthetic: {rate_rps: 1e9, prompt_tokens: {dist: fixed, value: 9}, output_tokens: "
                             "{dist: fixed, value: 9}}, window_s: [16, 17], max_requests: 5}",
                             2, "s.yaml:5:131: workload.window_s starts at 16 s"},
                        Case{"{synthetic: {rate_rps: 10, prompt_tokens: {dist: fixed, value: 9}, output_tokens: "
                             "{dist: fixed, value: 9}}, window_s: [16, 17], max_requests: 5}",
                             0, "\"requests_arrived\": 5"}}) {
    const std::string path = testing::WriteFile(dir, "s.yaml", head + "workload: " + c.workload + "\n");
    auto r = testing::RunGpufleet("simulate " + path + " --json", /*merge_stderr=*/true);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.workload << "\n" << r.output;
    EXPECT_NE(r.output.find(c.words), std::string::npos) << c.workload << "\n" << r.output;
  }
}

TEST(InputTraceArrivals, RealTracesStayWithinTheGapRule) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present";
  for (const char* name : {"code", "conv"}) {
    const std::string path = testing::SharedData(absl::StrCat("azure-llm-2023/AzureLLMInferenceTrace_", name, ".csv"));
    for (int copies : {1, 10}) {
      WorkloadSpec spec = Trace(path, "azure");
      spec.superpose = copies;
      std::vector<TraceRequest> got;
      ASSERT_TRUE(DrainStatus(spec, &got).ok()) << name << " x" << copies;
      double longest = 0;
      for (size_t i = 1; i < got.size(); ++i) longest = std::max(longest, got[i].arrival_s - got[i - 1].arrival_s);
      // Far below the one-hour floor: 217 s (code) and 4.3 s (conversation) in the files themselves.
      EXPECT_LT(longest, kGapFloorS / 10) << name << " x" << copies;
    }
  }
}

}  // namespace
}  // namespace gpufleet
