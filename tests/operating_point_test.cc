// The calibrated model at the serving stack's operating point: the Azure conversation trace on
// Llama-2-70B, two H100 TP8 replicas, chunked prefill at 2,048 tokens, priced by the splitwise-2023
// profiles and by Splitwise's own measurements interpolated (scenarios/validation/azure-conv-tp8-*.yaml).
// Their TTFT percentiles must agree: most iterations of such a replica are prefills at the chunk budget,
// the configuration the calibrated model once priced 20% slow (docs/perf-model.md, "Accuracy").
#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/calibration/measurements.h"
#include "models/measured_perf_model.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::HasSharedData;
using testing::RunGpufleet;

std::string Scenario(const std::string& name) {
  return std::string(GPUFLEET_SOURCE_DIR) + "/scenarios/validation/" + name + ".yaml";
}

nlohmann::json Simulate(const std::string& name) {
  const auto r = RunGpufleet("simulate " + Scenario(name) + " --json");
  EXPECT_EQ(r.exit_code, 0) << name;
  return nlohmann::json::parse(r.output, nullptr, /*allow_exceptions=*/false);
}

EndToEndSample Row(int tp, int prompt, int batch, double prefill_ms, double decode_ms) {
  EndToEndSample s;
  s.model = "llama2-70b";
  s.hardware = "h100-80gb";
  s.tensor_parallel = tp;
  s.prompt_tokens = prompt;
  s.batch = batch;
  s.output_tokens = 128;
  s.prefill_s = prefill_ms * 1e-3;
  s.decode_iteration_s = decode_ms * 1e-3;
  return s;
}

TEST(MeasuredPerfModel, InterpolatesPrefillByTokensAndDecodeByBatch) {
  const std::vector<EndToEndSample> rows = {
      Row(8, 512, 1, 50, 30), Row(8, 512, 1, 60, 30),  // repeats are averaged: 55 ms
      Row(8, 1024, 1, 80, 30), Row(8, 512, 4, 130, 32),  Row(8, 2048, 1, 140, 31),  // 2,048 tokens: 135 ms
      Row(8, 512, 16, 800, 40), Row(4, 512, 1, 999, 999),  // another TP: ignored
  };
  auto m = MeasuredPerfModel::FromRows(rows, "h100-80gb", 8, "table.csv");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NEAR(m->PrefillTime(512), 0.055, 1e-12);
  EXPECT_NEAR(m->PrefillTime(100), 0.055, 1e-12);  // launch-bound: held below the smallest
  EXPECT_NEAR(m->PrefillTime(768), 0.0675, 1e-12);
  EXPECT_NEAR(m->PrefillTime(2048), 0.135, 1e-12);
  EXPECT_NEAR(m->PrefillTime(8192), 0.8, 1e-12);
  EXPECT_NEAR(m->PrefillTime(14336), 0.8 + 6144 * (0.8 - 0.135) / 6144, 1e-12);  // last slope beyond
  EXPECT_NEAR(m->DecodeTime(1), 0.03025, 1e-12);  // (30 + 30 + 30 + 31) / 4 ms
  EXPECT_NEAR(m->DecodeTime(10), 0.032 + 6 * (0.040 - 0.032) / 12, 1e-12);
  // A decode step; a prefill; a chunked-prefill iteration with 4 decodes riding along.
  std::vector<SeqWork> decode(4, SeqWork{1, 600});
  EXPECT_NEAR(m->IterationTime(decode), 0.032, 1e-12);
  EXPECT_NEAR(m->IterationTime(std::vector<SeqWork>{SeqWork{1024, 0}}), 0.080, 1e-12);
  std::vector<SeqWork> mixed = decode;
  mixed.push_back(SeqWork{1020, 300});
  EXPECT_NEAR(m->IterationTime(mixed), m->PrefillTime(1024) + m->DecodeTime(4) - m->DecodeTime(1), 1e-12);
  EXPECT_NE(m->Label().find("measurement-interpolated"), std::string::npos) << m->Label();
  EXPECT_NE(m->Label().find("h100-80gb TP8"), std::string::npos) << m->Label();

  auto none = MeasuredPerfModel::FromRows(rows, "h100-80gb", 2, "table.csv");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("table.csv: no rows of hardware 'h100-80gb' at tensor parallelism 2"),
            std::string::npos)
      << none.status();
  auto one = MeasuredPerfModel::FromRows(rows, "h100-80gb", 4, "table.csv");
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("expected at least two"), std::string::npos) << one.status();
}

TEST(MeasuredPerfModel, ScenarioKeysAreCheckedWithLocations) {
  if (!HasSharedData()) GTEST_SKIP() << "../shared/data is absent: Splitwise's table lives there";
  const std::string dir = testing::TempDir();
  const std::string table = testing::SharedData("splitwise/perf_model_llama2-70b.csv");
  // A table of TP8 rows only.
  std::string tp8 = "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,e2e_time,tensor_parallel\n";
  for (int prompt : {512, 1024, 2048}) {
    for (int batch : {1, 4}) {
      tp8 += "llama2-70b,h100-80gb," + std::to_string(prompt) + "," + std::to_string(batch) + ",128,0,0," +
             std::to_string(prompt * batch / 15) + ",30,4000,8\n";
    }
  }
  const std::string tp8_table = testing::WriteFile(dir, "tp8.csv", tp8);
  auto scenario = [&](const std::string& name, const std::string& model, const std::string& hardware, int tp,
                      const std::string& csv = "") {
    return testing::WriteFile(dir, name, "seed: 1\ncluster: {nodes: [{type: DGX-H100, count: 1}]}\nmodel: " + model +
                                             "\nperf_model:\n  type: measured\n  table: " + (csv.empty() ? table : csv) +
                                             "\n  hardware: " + hardware + "\ndeployment: [{gpu: H100-SXM-80GB, tensor_parallel: " +
                                             std::to_string(tp) +
                                             ", replicas: 1}]\nworkload: {synthetic: {rate_rps: 1, prompt_tokens: {dist: fixed, value: 100}, "
                                             "output_tokens: {dist: fixed, value: 10}}}\nhorizon_s: 5\n");
  };
  struct Case {
    std::string file, message;
  } cases[] = {
      {scenario("hw.yaml", "Llama-2-70B", "h200-141gb", 8), "hw.yaml:7:"},
      {scenario("hw.yaml", "Llama-2-70B", "h200-141gb", 8), "perf_model.hardware 'h200-141gb' has no rows"},
      {scenario("model.yaml", "Llama-2-7B", "h100-80gb", 8), "is not the scenario's Llama-2-7B"},
      {scenario("tp.yaml", "Llama-2-70B", "h100-80gb", 4, tp8_table), "deployment[0].tensor_parallel is 4"},
      {scenario("tp.yaml", "Llama-2-70B", "h100-80gb", 4, tp8_table), "one of the measured degrees: 8"},
      {scenario("missing.yaml", "Llama-2-70B", "h100-80gb", 8, dir + "/none.csv"), "missing.yaml:6:"},
      {scenario("gpu.yaml", "Llama-2-70B", "a100-80gb", 8), "deployment[0] runs H100-SXM-80GB"},
  };
  for (const Case& c : cases) {
    const auto r = RunGpufleet("simulate " + c.file + " --check", true);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.message << "\n" << r.output;
  }
  const auto ok = RunGpufleet("simulate " + scenario("ok.yaml", "Llama-2-70B", "h100-80gb", 8) + " --json");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_NE(ok.output.find("measurement-interpolated"), std::string::npos) << ok.output;
}

TEST(OperatingPoint, CalibratedTtftMatchesSplitwiseMeasurementsOnAzureConvTp8) {
  if (!HasSharedData()) GTEST_SKIP() << "../shared/data is absent: the Azure trace and Splitwise's table live there";
  const nlohmann::json calibrated = Simulate("azure-conv-tp8-calibrated");
  const nlohmann::json measured = Simulate("azure-conv-tp8-measured");
  ASSERT_TRUE(calibrated.is_object() && measured.is_object());
  EXPECT_NE(measured["perf_model"].get<std::string>().find("measurement-interpolated"), std::string::npos)
      << measured["perf_model"];
  EXPECT_NE(calibrated["perf_model"].get<std::string>().find("splitwise-2023"), std::string::npos)
      << calibrated["perf_model"];
  EXPECT_EQ(calibrated["requests_completed"], measured["requests_completed"]);
  for (const char* key : {"ttft_p50_s", "ttft_p99_s"}) {
    const double c = calibrated[key].get<double>(), m = measured[key].get<double>();
    EXPECT_LT(std::fabs(c / m - 1), 0.05) << key << ": calibrated " << c << " s, measurement-interpolated " << m << " s";
  }
}

}  // namespace
}  // namespace gpufleet
