// workload.filter keeps the requests whose sizes lie in its ranges, after the window and before the cap,
// for traces and synthetic sources; bad values are refused with their location; a filter that keeps
// nothing is a clean run with zero requests.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "tests/test_util.h"
#include "traces/reshape_streams.h"
#include "traces/workload_stream.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Row i (0..19): arrival i s, prompt 100 * (i + 1), output 10 * (i % 5 + 1).
std::string TwentyRows(const std::string& dir) {
  std::string text = "arrival_s,prompt_tokens,output_tokens\n";
  for (int i = 0; i < 20; ++i) absl::StrAppend(&text, i, ",", 100 * (i + 1), ",", 10 * (i % 5 + 1), "\n");
  return testing::WriteFile(dir, "twenty.csv", text);
}

WorkloadSpec Native(const std::string& path) {
  WorkloadSpec spec;
  spec.source = WorkloadSpec::Source::kTrace;
  spec.trace_path = path;
  spec.trace_format = "native";
  return spec;
}

std::vector<TraceRequest> Drain(const WorkloadSpec& spec, double horizon = kInf) {
  auto s = MakeRequestStream(spec, 1, horizon);
  EXPECT_TRUE(s.ok()) << s.status();
  std::vector<TraceRequest> out;
  if (!s.ok()) return out;
  TraceRequest r;
  while (true) {
    absl::StatusOr<bool> more = (*s)->Next(&r);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    out.push_back(r);
  }
  EXPECT_EQ((*s)->Progress(), 1.0);
  return out;
}

std::vector<uint32_t> Prompts(const std::vector<TraceRequest>& rows) {
  std::vector<uint32_t> p;
  for (const TraceRequest& r : rows) p.push_back(r.prompt_tokens);
  return p;
}

TEST(WorkloadFilter, KeepsExactlyTheRequestsInRange) {
  const std::string path = TwentyRows(testing::TempDir());
  WorkloadSpec spec = Native(path);
  spec.filter_prompt = TokenRange{300, 800};  // prompts 300..700: rows 2..6
  std::vector<TraceRequest> rows = Drain(spec);
  EXPECT_EQ(Prompts(rows), (std::vector<uint32_t>{300, 400, 500, 600, 700}));
  EXPECT_EQ(rows[0].arrival_s, 2.0);  // arrival times are kept, not re-spaced
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].id, i);  // ids count the kept requests

  spec = Native(path);
  spec.filter_output = TokenRange{30, kInf};  // outputs 30, 40, 50: i % 5 in {2, 3, 4}
  rows = Drain(spec);
  ASSERT_EQ(rows.size(), 12u);
  for (const TraceRequest& r : rows) EXPECT_GE(r.output_tokens, 30u);

  spec.filter_prompt = TokenRange{0, 1001};   // and prompts <= 1000: rows 0..9
  EXPECT_EQ(Prompts(Drain(spec)), (std::vector<uint32_t>{300, 400, 500, 800, 900, 1000}));
}

TEST(WorkloadFilter, AppliesAfterTheWindowAndBeforeTheCap) {
  WorkloadSpec spec = Native(TwentyRows(testing::TempDir()));
  spec.rate_multiplier = 2;               // arrivals 0, 0.5, ..., 9.5
  spec.window_start_s = 2;                // rows 4..13, rebased to 0, 0.5, ...
  spec.window_end_s = 7;
  spec.filter_output = TokenRange{40, kInf};  // rows 4, 8, 9, 13 (i % 5 in {3, 4})
  spec.max_requests = 2;                  // counts kept requests: rows 4, 8
  std::vector<TraceRequest> rows = Drain(spec);
  EXPECT_EQ(Prompts(rows), (std::vector<uint32_t>{500, 900}));
  EXPECT_EQ(rows[1].arrival_s, 2.0);      // row 8: 8 s / 2 - 2
  spec.max_requests = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Prompts(Drain(spec, /*horizon=*/4.0)), (std::vector<uint32_t>{500, 900, 1000}));  // row 13 at 4.5 s
}

TEST(WorkloadFilter, SyntheticSourceFiltered) {
  WorkloadSpec spec;
  spec.rate_rps = 50;
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kUniform, 0, 1, 1000};
  spec.output_len = LengthSpec{LengthSpec::Kind::kFixed, 20};
  spec.filter_prompt = TokenRange{200, 400};
  spec.max_requests = 300;
  std::vector<TraceRequest> rows = Drain(spec);
  ASSERT_EQ(rows.size(), 300u);
  for (const TraceRequest& r : rows) {
    EXPECT_GE(r.prompt_tokens, 200u);
    EXPECT_LT(r.prompt_tokens, 400u);
  }
  // A filter that keeps nothing ends at the horizon.
  spec.filter_prompt = TokenRange{5000, kInf};
  spec.max_requests = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(Drain(spec, /*horizon=*/100).empty());
}

TEST(WorkloadFilter, EndlessDroppingIsAnError) {
  WorkloadSpec spec;
  spec.rate_rps = 50;
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kFixed, 100};
  spec.output_len = LengthSpec{LengthSpec::Kind::kFixed, 20};
  auto source = MakeRequestStream(spec, 1, /*horizon_s=*/1e6);
  ASSERT_TRUE(source.ok()) << source.status();
  auto filtered = MakeFilteredStream(*std::move(source), TokenRange{200, kInf}, TokenRange{}, kInf, 1000);
  TraceRequest r;
  absl::StatusOr<bool> more = filtered->Next(&r);
  ASSERT_FALSE(more.ok());
  EXPECT_NE(more.status().message().find("filter dropped 1000 requests in a row"), std::string::npos) << more.status();
}

TEST(WorkloadFilter, InvalidRangesAreRefusedByTheStream) {
  WorkloadSpec spec = Native(TwentyRows(testing::TempDir()));
  spec.filter_prompt = TokenRange{10, 10};
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec.filter_prompt = TokenRange{-1, 10};
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
}

const char* kScenario = R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB}]
slos:
  ttft: {target_s: 1}
  e2e: {target_s: 10}
workload:
  trace: {path: twenty.csv, format: native}
)";

absl::StatusOr<Scenario> LoadWithFilter(const std::string& dir, const std::string& filter) {
  TwentyRows(dir);
  return LoadScenarioFromString(std::string(kScenario) + "  filter: " + filter + "\n", "s.yaml", dir, RealCatalog());
}

TEST(WorkloadFilter, LoadedFromTheScenario) {
  const std::string dir = testing::TempDir();
  auto s = LoadWithFilter(dir, "{prompt_tokens: [0, 512], output_tokens: [20, .inf]}");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->workload.filter_prompt.lo, 0);
  EXPECT_EQ(s->workload.filter_prompt.hi, 512);
  EXPECT_EQ(s->workload.filter_output.lo, 20);
  EXPECT_TRUE(std::isinf(s->workload.filter_output.hi));
  s = LoadWithFilter(dir, "{output_tokens: [0, 30]}");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->workload.filter_prompt.All());
}

TEST(WorkloadFilter, BadValuesAreLocated) {
  const std::string dir = testing::TempDir();
  struct Case {
    const char* filter;
    const char* message;  // the whole location and the start of the message
  };
  for (const Case& c : {Case{"{prompt_tokens: [512, 0]}", "s.yaml:10:33: workload.filter.prompt_tokens[1] is 0, out of range"},
                        Case{"{prompt_tokens: [5, 5]}", "s.yaml:10:31: workload.filter.prompt_tokens is empty: [5, 5)"},
                        Case{"{prompt_tokens: [-1, 5]}", "s.yaml:10:28: workload.filter.prompt_tokens[0]"},
                        Case{"{prompt_tokens: [0.5, 5]}", "s.yaml:10:28: workload.filter.prompt_tokens[0]"},
                        Case{"{output_tokens: [0, 2.5]}", "s.yaml:10:31: workload.filter.output_tokens[1] is 2.5"},
                        Case{"{output_tokens: 7}", "s.yaml:10:27: workload.filter.output_tokens is not a pair"},
                        Case{"{output_tokens: [1, 2, 3]}", "s.yaml:10:27: workload.filter.output_tokens is not a pair"},
                        Case{"{prompt_token: [0, 5]}", "s.yaml:10:12: "},
                        Case{"{}", "s.yaml:10:11: workload.filter names no range"},
                        Case{"[0, 5]", "s.yaml:10:11: "}}) {
    auto s = LoadWithFilter(dir, c.filter);
    ASSERT_FALSE(s.ok()) << c.filter;
    const std::string msg(s.status().message());
    EXPECT_EQ(msg.rfind(c.message, 0), 0u) << c.filter << ": " << msg;
    EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
  }
  // A synthetic distribution the filter drops entirely.
  const std::string synth = R"(seed: 1
horizon_s: 10
cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB}]
workload:
  synthetic: {rate_rps: 1, prompt_tokens: {dist: uniform, min: 10, max: 100}, output_tokens: {dist: fixed, value: 9}}
  filter: {prompt_tokens: [101, .inf]}
)";
  auto s = LoadScenarioFromString(synth, "s.yaml", dir, RealCatalog());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message()).rfind("s.yaml:8:27: workload.filter.prompt_tokens [101, inf) keeps none", 0), 0u)
      << s.status();
}

TEST(WorkloadFilter, SetOverridesAndAnEmptyResult) {
  const std::string dir = testing::TempDir();
  TwentyRows(dir);
  const std::string path = testing::WriteFile(dir, "s.yaml", kScenario);
  auto r = testing::RunGpufleet(
      "simulate " + path + " --json --set 'workload.filter={prompt_tokens: [0, 512], output_tokens: [20, .inf]}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["requests_arrived"], 4) << r.output;  // prompts 200..500 (outputs 20..50)

  const std::string with_filter =
      testing::WriteFile(dir, "f.yaml", std::string(kScenario) + "  filter: {prompt_tokens: [0, 2001]}\n");
  r = testing::RunGpufleet("simulate " + with_filter + " --json --set 'workload.filter.prompt_tokens=[0,512]'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["requests_arrived"], 5) << r.output;

  r = testing::RunGpufleet("simulate " + path + " --json --set 'workload.filter={prompt_tokens: [0, 2, 3]}'",
                           /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--set workload.filter={prompt_tokens: [0, 2, 3]}: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("workload.filter.prompt_tokens is not a pair"), std::string::npos) << r.output;

  // Keeps nothing: a clean run with zero requests, SLOs not evaluated.
  r = testing::RunGpufleet("simulate " + path + " --json --set 'workload.filter={prompt_tokens: [5000, .inf]}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["requests_arrived"], 0) << r.output;
  ASSERT_EQ(j["slos"].size(), 2u) << r.output;
  for (const auto& slo : j["slos"]) EXPECT_EQ(slo["evaluated"], false) << r.output;
  EXPECT_FALSE(j.contains("slo_attainment")) << r.output;
}

}  // namespace
}  // namespace gpufleet
