// End-to-end measurement readers (models/calibration/end_to_end_runs.h) on small fixtures written to a temp
// folder: good rows, each kind of error with its path:row, skipped rows with their reasons; the same readers
// on the real ML.ENERGY and LLM-Inference-Bench sets in ../shared/data when present; Splitwise names through
// the catalog mapping; and in-sample detection by content digest (calibrate.h: MeasurementSetDigest,
// FittedOn).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/calibration/calibrate.h"
#include "models/calibration/end_to_end_runs.h"
#include "models/calibration/gpu_profile.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using ::gpufleet::testing::HasSharedData;
using ::gpufleet::testing::RealCatalog;
using ::gpufleet::testing::SharedData;
using ::gpufleet::testing::TempDir;
using ::gpufleet::testing::WriteFile;
namespace fs = std::filesystem;

#define SKIP_WITHOUT_SHARED_DATA() \
  if (!HasSharedData())            \
  GTEST_SKIP() << "../shared/data not present (the real measurement sets live beside the checkout)"

std::string Error(const absl::Status& status) { return std::string(status.message()); }
bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// ---------------------------------------------------------------------------------------------------------
// ML.ENERGY fixtures.

std::string Histogram(const std::string& bins, const std::string& counts) {
  return absl::StrCat("{\"bins\": [", bins, "], \"counts\": [", counts, "]}");
}

std::string MlEnergyConfig(const std::string& gpu, int gpus, int tp, int seqs, const std::string& extra = "") {
  return absl::StrFormat(
      R"({"avg_batch_size": %d.5, "avg_output_len": 640.6, "avg_power_watts": 450.0, "energy_per_request_joules": 290.0,
          "energy_per_token_joules": 0.45, "gpu_model": "%s", "max_num_seqs": %d, "median_itl_ms": 8.2, "num_gpus": %d,
          "output_throughput_tokens_per_sec": 960.0, "p90_itl_ms": 8.7, "p95_itl_ms": 8.8, "p99_itl_ms": 13.1,
          "parallelization": {"data_parallel": 1, "expert_parallel": 1, "notes": "", "tensor_parallel": %d}%s})",
      seqs - 1, gpu, seqs, gpus, tp, extra);
}

std::string MlEnergyFile(const std::string& model, const std::string& configs) {
  return absl::StrCat(R"({"activated_params_billions": 8.0, "architecture": "Dense Transformer", "configurations": [)",
                      configs, R"(], "model_id": ")", model, R"(", "output_length_distribution": )",
                      Histogram("10, 20, 40", "3, 1"), R"(, "task": "gpqa", "total_params_billions": 8.0,
                      "weight_precision": "bfloat16"})");
}

TEST(MlEnergyReader, GoodFile) {
  const std::string dir = TempDir();
  fs::create_directories(dir + "/sub");
  const std::string configs =
      MlEnergyConfig("H100", 1, 1, 8,
                     absl::StrCat(R"(, "output_length_distribution": )", Histogram("1, 2, 3, 4", "5, 6, 7"))) +
      ", " + MlEnergyConfig("H100", 2, 2, 16);
  const std::string b = WriteFile(dir + "/sub", "b.json", MlEnergyFile("Qwen/Qwen3-8B", configs));
  const std::string a =
      WriteFile(dir, "a.json", MlEnergyFile("meta-llama/Llama-3.1-8B-Instruct", MlEnergyConfig("H100", 1, 1, 64)));
  WriteFile(dir, "notes.txt", "not a leaderboard file");
  auto runs = ReadMlEnergy(dir, RealCatalog());
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 3u);
  // Sorted by path: a.json, then sub/b.json.
  const EndToEndRun& first = (*runs)[0];
  EXPECT_EQ(first.origin.file, a);
  EXPECT_EQ(first.model, "Llama-3.1-8B");
  EXPECT_EQ(first.origin.model, "meta-llama/Llama-3.1-8B-Instruct");
  const EndToEndRun& r = (*runs)[1];
  EXPECT_EQ(r.source, "mlenergy");
  EXPECT_EQ(r.origin.file, b);
  EXPECT_EQ(r.origin.row, 1);
  EXPECT_EQ(r.gpu, "H100-SXM-80GB");
  EXPECT_EQ(r.model, "Qwen3-8B");
  EXPECT_EQ(r.framework, "vLLM 0.11.1");
  EXPECT_EQ(r.precision, "bf16");
  EXPECT_EQ(r.task, "gpqa");
  EXPECT_EQ(r.kind, EndToEndRun::Kind::kClosedLoop);
  EXPECT_EQ(r.batch, 8);
  EXPECT_EQ(r.tensor_parallel, 1);
  EXPECT_EQ(r.prompt_tokens, 0);
  EXPECT_EQ(r.output_tokens, 641);
  EXPECT_DOUBLE_EQ(r.avg_batch, 7.5);
  EXPECT_DOUBLE_EQ(r.output_tok_s, 960);
  EXPECT_DOUBLE_EQ(r.power_w, 450);
  EXPECT_DOUBLE_EQ(r.energy_per_token_j, 0.45);
  EXPECT_DOUBLE_EQ(r.itl_p50_s, 8.2e-3);
  EXPECT_DOUBLE_EQ(r.itl_p99_s, 13.1e-3);
  EXPECT_TRUE(std::isnan(r.ttft_s));
  EXPECT_TRUE(std::isnan(r.latency_s));
  EXPECT_EQ(r.output_bins, (std::vector<double>{1, 2, 3, 4}));  // the configuration's own histogram
  EXPECT_EQ(r.output_counts, (std::vector<double>{5, 6, 7}));
  const EndToEndRun& r2 = (*runs)[2];
  EXPECT_EQ(r2.origin.row, 2);
  EXPECT_EQ(r2.tensor_parallel, 2);
  EXPECT_EQ(r2.output_bins, (std::vector<double>{10, 20, 40}));  // the file's
  EXPECT_EQ(r2.output_counts, (std::vector<double>{3, 1}));
}

TEST(MlEnergyReader, Errors) {
  const std::string dir = TempDir();
  auto read = [&](const std::string& text) {
    WriteFile(dir, "x.json", text);
    return ReadMlEnergy(dir, RealCatalog());
  };
  const std::string path = dir + "/x.json";
  auto runs = read("{\"model_id\": ");
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(StartsWith(Error(runs.status()), path + ": not valid JSON (byte ")) << runs.status();

  runs = read(MlEnergyFile("acme/Nonexistent-7B-Instruct", MlEnergyConfig("H100", 1, 1, 8)));
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(
      StartsWith(Error(runs.status()), path + ": model_id: model 'acme/Nonexistent-7B-Instruct' (normalised "
                                              "'nonexistent-7-b-instruct') is not in the model catalog; expected one "
                                              "of models/catalog/llms.yaml, closest: "))
      << runs.status();

  runs = read(MlEnergyFile("Qwen/Qwen3-8B", MlEnergyConfig("H100", 1, 1, 8) + ", " + MlEnergyConfig("B300", 1, 1, 8)));
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(StartsWith(Error(runs.status()),
                         path + ":2: gpu_model: GPU 'B300' (normalised 'b300') is not in the GPU catalog"))
      << runs.status();

  runs = read(MlEnergyFile("Qwen/Qwen3-8B", MlEnergyConfig("H100", 2, 1, 8)));
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), path +
                                      ":1: configurations[0].num_gpus is 2 but parallelization.tensor_parallel is 1; "
                                      "expected one tensor-parallel replica per run (num_gpus = tensor_parallel)");

  std::string config = MlEnergyConfig("H100", 1, 1, 8);
  config.replace(config.find("\"avg_power_watts\": 450.0, "), std::string("\"avg_power_watts\": 450.0, ").size(), "");
  runs = read(MlEnergyFile("Qwen/Qwen3-8B", MlEnergyConfig("H100", 1, 1, 8) + ", " + config));
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()),
            path + ":2: configurations[1].avg_power_watts is missing; expected a positive number of W");

  config = MlEnergyConfig("H100", 1, 1, 8);
  config.replace(config.find("8.2"), 3, "-1");
  runs = read(MlEnergyFile("Qwen/Qwen3-8B", config));
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()),
            path + ":1: configurations[0].median_itl_ms is -1; expected a positive number of milliseconds");

  runs = read(MlEnergyFile("Qwen/Qwen3-8B", MlEnergyConfig("H100", 1, 1, 8,
                                                           absl::StrCat(R"(, "output_length_distribution": )",
                                                                        Histogram("1, 2, 3", "1, 2, 3")))));
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), path +
                                      ":1: configurations[0].output_length_distribution has 3 edges and 3 counts; "
                                      "expected one edge more than counts, at least one count");

  runs = read(MlEnergyFile("Qwen/Qwen3-8B", MlEnergyConfig("H100", 1, 1, 8,
                                                           absl::StrCat(R"(, "output_length_distribution": )",
                                                                        Histogram("1, 3, 2", "1, 2")))));
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), path +
                                      ":1: configurations[0].output_length_distribution.bins has 2 at position 3; "
                                      "expected increasing finite edges");

  runs = read(MlEnergyFile("Qwen/Qwen3-8B", ""));
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()),
            path + ": configurations is []; expected a non-empty list of measured configurations");

  fs::remove(path);
  runs = ReadMlEnergy(dir, RealCatalog());
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), dir + ": no *.json files; expected ML.ENERGY V3 leaderboard files");
  EXPECT_FALSE(ReadMlEnergy(dir + "/missing", RealCatalog()).ok());
}

// ---------------------------------------------------------------------------------------------------------
// LLM-Inference-Bench fixtures.

constexpr char kAllHeader[] =
    "Hardware,Num of Hardware,Framework,Model,Input Output Length,Batch Size,Latency,Throughput\n";
constexpr char kPowerHeader[] =
    "Hardware,Num of Hardware,Framework,Model,Input Output Length,Batch Size,Latency,Throughput,avg_power\n";
constexpr char kTtftHeader[] =
    "Hardware,Num of Hardware,Framework,Model,Input Length,Output Length,Batch Size,TTFT Latency,end_latency \n";

// A row whose Throughput is batch x 2 x length / latency, as the set publishes it.
std::string BenchRow(const std::string& hw, int gpus, const std::string& framework, const std::string& model,
                     int length, int batch, double latency) {
  return absl::StrFormat("%s,%d,%s,%s,%d,%d,%.17g,%.17g\n", hw, gpus, framework, model, length, batch, latency,
                         2.0 * batch * length / latency);
}

std::string WriteBench(const std::string& dir) {
  WriteFile(dir, "All_results.csv",
            std::string(kAllHeader) +
                BenchRow("Nvidia H100 GPU", 1, "vLLM", "meta-llama/Llama-2-7b-hf", 1024, 16, 13.0) +
                BenchRow("Nvidia A100 GPU", 4, "TensorRT-LLM", "meta-llama/Llama-2-70b-hf", 128, 1, 2.0) +
                "Nvidia A100 GPU,1,llama.cpp,meta-llama/Llama-2-7b-hf,128,16,2.3,109.8\n" +
                BenchRow("Nvidia GH200 GPU", 1, "vLLM", "meta-llama/Llama-2-7b-hf", 1024, 16, 12.0) +
                BenchRow("Nvidia H100 GPU", 1, "vLLM", "Deci/DeciLM-7B", 128, 1, 1.0) +
                BenchRow("Nvidia A100 GPU", 1, "Deepspeed-MII", "mistralai/Mistral-7B-v0.1", 1024, 16, 24.0));
  WriteFile(dir, "power_results.csv",
            std::string(kPowerHeader) +
                "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,16,13.0,2520.6,494784.6\n" +
                "Nvidia H100 GPU,1,vLLM,mistralai/Mistral-7B-v0.1,1024,16,11.0,2978.9,480000\n" +
                "Nvidia GH200 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,16,12.0,2730.6,520000\n");
  return WriteFile(dir, "all_results_TTFT_ITL.csv",
                   std::string(kTtftHeader) + "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,1,16,0.42,13.0\n" +
                       "Nvidia A100 GPU,1,DeepSpeed-MII,mistralai/Mistral-7B-v0.1,1024,1,16,1.69,24.0\n" +
                       "Nvidia GH200 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,1,16,0.33\n" +
                       "Nvidia GH200 GPU,1,vLLM,mistralai/Mistral-7B-v0.1,1024,1,16,0.37,11.0\n");
}

TEST(InferenceBenchReader, RunsJoinsAndSkippedRows) {
  const std::string dir = TempDir();
  WriteBench(dir);
  std::vector<SkippedRow> skipped;
  auto runs = ReadInferenceBench(dir, RealCatalog(), &skipped);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 3u);
  const EndToEndRun& r = (*runs)[0];
  EXPECT_EQ(r.source, "inference-bench");
  EXPECT_EQ(r.origin.file, dir + "/All_results.csv");
  EXPECT_EQ(r.origin.row, 2);
  EXPECT_EQ(r.origin.model, "meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(r.gpu, "H100-SXM-80GB");
  EXPECT_EQ(r.model, "Llama-2-7B");
  EXPECT_EQ(r.framework, "vLLM");
  EXPECT_EQ(r.precision, "");
  EXPECT_EQ(r.task, "");
  EXPECT_EQ(r.kind, EndToEndRun::Kind::kFixedBatch);
  EXPECT_EQ(r.batch, 16);
  EXPECT_EQ(r.prompt_tokens, 1024);
  EXPECT_EQ(r.output_tokens, 1024);
  EXPECT_DOUBLE_EQ(r.latency_s, 13.0);
  EXPECT_NEAR(r.output_tok_s, 16 * 1024 / 13.0, 1e-9);
  EXPECT_NEAR(r.power_w, 494.7846, 1e-9);
  EXPECT_DOUBLE_EQ(r.ttft_s, 0.42);
  EXPECT_TRUE(std::isnan(r.itl_p50_s));
  EXPECT_TRUE(std::isnan(r.energy_per_token_j));
  const EndToEndRun& tp4 = (*runs)[1];
  EXPECT_EQ(tp4.gpu, "A100-SXM-80GB");  // "Nvidia A100 GPU": memory variant not stated
  EXPECT_EQ(tp4.model, "Llama-2-70B");
  EXPECT_EQ(tp4.tensor_parallel, 4);
  EXPECT_TRUE(std::isnan(tp4.power_w));
  EXPECT_TRUE(std::isnan(tp4.ttft_s));
  // The TTFT file writes "DeepSpeed-MII", All_results.csv "Deepspeed-MII": the framework as published, joined
  // case-insensitively.
  const EndToEndRun& ds = (*runs)[2];
  EXPECT_EQ(ds.framework, "Deepspeed-MII");
  EXPECT_EQ(ds.model, "Mistral-7B");
  EXPECT_DOUBLE_EQ(ds.ttft_s, 1.69);

  std::map<std::string, std::vector<int64_t>> rows_by_reason;
  for (const SkippedRow& s : skipped) rows_by_reason[s.reason].push_back(s.origin.row);
  EXPECT_EQ(rows_by_reason, (std::map<std::string, std::vector<int64_t>>{
                                {"llama.cpp: quantised GGUF weights of unpublished precision", {4}},
                                {"GPU not in the catalog: 'Nvidia GH200 GPU'", {5}},
                                {"model not in the catalog: 'Deci/DeciLM-7B'", {6}},
                                {"power row: no All_results.csv row of the same configuration", {3}},
                                {"TTFT row: no All_results.csv row of the same configuration", {5}},
                            }));
  EXPECT_EQ(SummarizeSkipped(skipped).substr(0, 17), "skipped 5 rows: 1");
  EXPECT_EQ(SummarizeSkipped({}), "");
  // Without a list the runs are the same.
  auto again = ReadInferenceBench(dir, RealCatalog());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);
}

TEST(InferenceBenchReader, Errors) {
  const std::string dir = TempDir();
  const std::string all = dir + "/All_results.csv";
  auto read = [&] { return ReadInferenceBench(dir, RealCatalog()); };
  auto runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_NE(Error(runs.status()).find(all), std::string::npos) << runs.status();

  WriteFile(dir, "All_results.csv", kAllHeader);
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), all + ": no measurement rows; expected at least one row below the header");

  WriteFile(dir, "All_results.csv",
            "Hardware,Num of Hardware,Framework,Model,Input Output Length,Batch Size,Throughput\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(
      StartsWith(Error(runs.status()), all + ":1: the header has no column 'Latency'; expected columns Hardware, "))
      << runs.status();

  WriteFile(dir, "All_results.csv",
            std::string(kAllHeader) + BenchRow("Nvidia H100 GPU", 1, "vLLM", "meta-llama/Llama-2-7b-hf", 128, 1, 1.0) +
                "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,128,x,1.0,256\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), all + ":3: Batch Size is 'x'; expected an integer from 1 to 2147483647");

  WriteFile(dir, "All_results.csv",
            std::string(kAllHeader) + "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,16,13.0,999\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), all +
                                      ":2: Throughput is '999'; expected Batch Size x 2 x Input Output Length / "
                                      "Latency = 2520.62 tokens/s (input and output tokens) within 1%");

  WriteFile(dir, "All_results.csv",
            std::string(kAllHeader) + "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,16,0,999\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), all + ":2: Latency is '0'; expected a positive number of seconds");

  WriteFile(dir, "All_results.csv", std::string(kAllHeader) + ",1,vLLM,meta-llama/Llama-2-7b-hf,1024,16,13,2520.6\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), all + ":2: Hardware is empty; expected a GPU name such as 'Nvidia H100 GPU'");

  WriteBench(dir);
  WriteFile(dir, "power_results.csv",
            std::string(kPowerHeader) + "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,16,13.0,2520.6,-5\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()),
            dir + "/power_results.csv:2: avg_power is '-5'; expected a positive number of milliwatts");

  WriteBench(dir);
  const std::string ttft =
      WriteFile(dir, "all_results_TTFT_ITL.csv",
                std::string(kTtftHeader) + "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,1,16\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()),
            ttft + ":2: the row has 7 fields; expected 9 as in the header (8 when end_latency is not given)");
  WriteFile(dir, "all_results_TTFT_ITL.csv",
            std::string(kTtftHeader) + "Nvidia H100 GPU,1,vLLM,meta-llama/Llama-2-7b-hf,1024,1,16,soon,13\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(Error(runs.status()), ttft + ":2: TTFT Latency is 'soon'; expected a positive number of seconds");
  WriteFile(dir, "all_results_TTFT_ITL.csv",
            "Hardware,Num of Hardware,Framework,Model,Input Length,Batch Size,TTFT Latency,end_latency,x\n");
  runs = read();
  ASSERT_FALSE(runs.ok());
  EXPECT_TRUE(StartsWith(Error(runs.status()), ttft + ":1: column 6 is 'Batch Size'; expected columns Hardware, "))
      << runs.status();
}

// ---------------------------------------------------------------------------------------------------------
// The real sets.

TEST(SplitwisePowerReader, FixedBatchRunsWithPowerOnly) {
  const std::string dir = TempDir();
  const std::string path = WriteFile(dir, "sw.csv",
                                     "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,"
                                     "prompt_time,token_time,e2e_time,tensor_parallel\n"
                                     "llama2-70b,a100-80gb,512,4,128,1.0,0.5,196.2,54.8,7168.9,2\n"
                                     "llama2-70b,h100-80gb,512,4,128,0,0,100.0,30.0,4000.0,4\n"
                                     "llama2-70b,h100-80gb-pcap,512,4,128,0.9,0.6,130.0,30.0,4030.0,4\n");
  std::vector<SkippedRow> skipped;
  auto runs = ReadSplitwisePower(path, RealCatalog(), &skipped);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 1u);
  const EndToEndRun& r = (*runs)[0];
  EXPECT_EQ(r.source, "splitwise");
  EXPECT_EQ(r.gpu, "A100-SXM-80GB");
  EXPECT_EQ(r.model, "Llama-2-70B");
  EXPECT_EQ(r.kind, EndToEndRun::Kind::kFixedBatch);
  EXPECT_EQ(r.batch, 4);
  EXPECT_EQ(r.prompt_tokens, 512);
  EXPECT_EQ(r.output_tokens, 128);
  EXPECT_EQ(r.tensor_parallel, 2);
  EXPECT_DOUBLE_EQ(r.latency_s, 7.1689);
  EXPECT_DOUBLE_EQ(r.power_w, 0.5 * 400 * 2);  // a share of the A100's 400 W TDP, both GPUs
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[1].reason, "a modelled power cap, not a measurement");
  const std::string bad = WriteFile(dir, "bad.csv",
                                    "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,"
                                    "prompt_time,token_time,e2e_time,tensor_parallel\n"
                                    "llama2-70b,a100-80gb,512,4,128,1.0,73.5,196.2,54.8,7168.9,2\n");
  auto err = ReadSplitwisePower(bad, RealCatalog());
  ASSERT_FALSE(err.ok());
  EXPECT_TRUE(StartsWith(Error(err.status()), bad + ":2: average_power is 73.5")) << err.status();
}

TEST(EndToEndRealData, SplitwiseA100Power) {
  SKIP_WITHOUT_SHARED_DATA();
  auto runs = ReadSplitwisePower(SharedData("splitwise/perf_model_llama2-70b.csv"), RealCatalog());
  ASSERT_TRUE(runs.ok()) << runs.status();
  EXPECT_EQ(runs->size(), 165u);  // 195 with power, less 30 beyond Llama-2's 4,096-token context
  std::set<int> tps;
  for (const EndToEndRun& r : *runs) {
    EXPECT_EQ(r.gpu, "A100-SXM-80GB");
    tps.insert(r.tensor_parallel);
    EXPECT_GT(r.power_w / r.tensor_parallel, 60);   // above the A100's idle
    EXPECT_LT(r.power_w / r.tensor_parallel, 440);  // at most 1.1 x its TDP
  }
  EXPECT_EQ(tps, (std::set<int>{2, 4, 8}));
}

TEST(EndToEndRealData, MlEnergyV3) {
  SKIP_WITHOUT_SHARED_DATA();
  auto runs = ReadMlEnergy(SharedData("mlenergy-v3"), RealCatalog());
  ASSERT_TRUE(runs.ok()) << runs.status();
  EXPECT_EQ(runs->size(), 77u);
  std::map<std::string, int> per_model;
  std::map<std::string, int> per_task;
  for (const EndToEndRun& r : *runs) {
    ++per_model[r.model];
    ++per_task[r.task];
    EXPECT_EQ(r.gpu, "H100-SXM-80GB");
    EXPECT_EQ(r.framework, "vLLM 0.11.1");
    EXPECT_EQ(r.precision, "bf16");
    EXPECT_EQ(r.kind, EndToEndRun::Kind::kClosedLoop);
    EXPECT_EQ(r.output_bins.size(), r.output_counts.size() + 1);
    EXPECT_GT(r.output_tokens, 0);
    EXPECT_LE(r.avg_batch, r.batch + 1e-9);
    EXPECT_GT(r.power_w, 0);
    EXPECT_LE(r.itl_p50_s, r.itl_p99_s);
  }
  EXPECT_EQ(per_model, (std::map<std::string, int>{{"Llama-3.1-70B", 12},
                                                   {"Llama-3.1-8B", 11},
                                                   {"Llama-3.3-70B", 11},
                                                   {"Qwen3-14B", 12},
                                                   {"Qwen3-32B", 16},
                                                   {"Qwen3-8B", 15}}));
  EXPECT_EQ(per_task, (std::map<std::string, int>{{"gpqa", 13}, {"lm-arena-chat", 64}}));
}

TEST(EndToEndRealData, LlmInferenceBench) {
  SKIP_WITHOUT_SHARED_DATA();
  std::vector<SkippedRow> skipped;
  auto runs = ReadInferenceBench(SharedData("llm-inference-bench"), RealCatalog(), &skipped);
  ASSERT_TRUE(runs.ok()) << runs.status();
  std::map<std::string, int> per_gpu, per_framework, per_model, reasons;
  int with_power = 0, with_ttft = 0;
  for (const EndToEndRun& r : *runs) {
    ++per_gpu[r.gpu];
    ++per_model[r.model];
    ++per_framework[r.framework];
    with_power += std::isfinite(r.power_w);
    with_ttft += std::isfinite(r.ttft_s);
    EXPECT_NEAR(r.output_tok_s * r.latency_s, double(r.batch) * r.output_tokens, 1e-2 * r.batch * r.output_tokens);
    EXPECT_EQ(r.prompt_tokens, r.output_tokens);
  }
  for (const SkippedRow& s : skipped) ++reasons[s.reason];
  // Every All_results.csv row is a run or skipped with a reason (the power and TTFT rows skipped add 1).
  EXPECT_EQ(runs->size() + skipped.size(), 1599u + 1u) << SummarizeSkipped(skipped);
  EXPECT_EQ(per_gpu, (std::map<std::string, int>{{"A100-SXM-80GB", 524}, {"H100-SXM-80GB", 396}}));
  EXPECT_EQ(per_framework, (std::map<std::string, int>{{"Deepspeed-MII", 149}, {"TensorRT-LLM", 372}, {"vLLM", 399}}));
  EXPECT_EQ(per_model, (std::map<std::string, int>{{"Aquila-7B", 1},
                                                   {"BLOOM-7B1", 1},
                                                   {"GPT-J-6B", 1},
                                                   {"LLaMA-7B", 1},
                                                   {"Llama-2-70B", 91},
                                                   {"Llama-2-7B", 301},
                                                   {"Mistral-7B", 270},
                                                   {"Mixtral-8x7B", 87},
                                                   {"OPT-6.7B", 1},
                                                   {"Qwen1.5-7B", 1},
                                                   {"Qwen2-7B", 165}}));
  EXPECT_EQ(reasons, (std::map<std::string, int>{
                         {"llama.cpp: quantised GGUF weights of unpublished precision", 394},
                         {"GPU not in the catalog: 'Nvidia GH200 GPU'", 220},
                         {"model not in the catalog: 'Deci/DeciLM-7B'", 65},
                         {"TTFT row: no All_results.csv row of the same configuration", 1},
                     }))
      << SummarizeSkipped(skipped);
  EXPECT_EQ(with_power, 20);  // A100 and H100 rows of power_results.csv (its GH200 rows are skipped)
  EXPECT_EQ(with_ttft, 10);
}

// ---------------------------------------------------------------------------------------------------------
// Splitwise names through the catalog mapping.

TEST(SplitwiseNames, HardwareMapsThroughTheCatalog) {
  auto h100 = ResolveSplitwiseHardware("h100-80gb", RealCatalog());
  ASSERT_TRUE(h100.ok()) << h100.status();
  EXPECT_EQ(h100->gpu->name, "H100-SXM-80GB");
  EXPECT_EQ(h100->node->name, "DGX-H100");
  EXPECT_TRUE(h100->headline);
  auto pcap = ResolveSplitwiseHardware("h100-80gb-pcap", RealCatalog());
  ASSERT_TRUE(pcap.ok()) << pcap.status();
  EXPECT_EQ(pcap->gpu->name, "H100-SXM-80GB");
  EXPECT_FALSE(pcap->headline);
  auto a100 = ResolveSplitwiseHardware("a100-80gb", RealCatalog());
  ASSERT_TRUE(a100.ok());
  EXPECT_EQ(a100->node->name, "DGX-A100");
  auto b200 = ResolveSplitwiseHardware("b200", RealCatalog());
  ASSERT_TRUE(b200.ok()) << b200.status();
  EXPECT_EQ(b200->node->name, "DGX-B200");
  auto unknown = ResolveSplitwiseHardware("tpu-v5e", RealCatalog());
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(StartsWith(Error(unknown.status()),
                         "Splitwise hardware 'tpu-v5e': GPU 'tpu-v5e' (normalised 'tpu-v5e') is "
                         "not in the GPU catalog"))
      << unknown.status();
}

std::string SplitwiseCsv(const std::vector<std::string>& models) {
  std::string text =
      "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,e2e_time,"
      "tensor_parallel\n";
  int prompt = 128;
  for (const std::string& m : models) {
    absl::StrAppend(&text, m, ",h100-80gb,", prompt, ",1,128,0,0,", prompt / 4, ",30,4000,8\n");
    prompt *= 2;
  }
  return text;
}

TEST(SplitwiseNames, AnyCatalogModel) {
  const std::string dir = TempDir();
  // BLOOM-176B is mapped (the file's second model is the error, not its name).
  std::string path =
      WriteFile(dir, "perf.csv",
                SplitwiseCsv({"llama2-70b", "bloom-176b", "llama2-70b", "llama2-70b", "llama2-70b", "llama2-70b"}));
  auto p = CalibrateFromSplitwise(path, "h100-80gb", GpuProfile{}, RealCatalog());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(Error(p.status()), path +
                                   ":3: model 'bloom-176b' (BLOOM-176B) differs from row 2's Llama-2-70B; expected one "
                                   "model per fit (hardware 'h100-80gb')");
  path = WriteFile(dir, "perf.csv", SplitwiseCsv({"gpt-5", "gpt-5", "gpt-5", "gpt-5", "gpt-5", "gpt-5"}));
  p = CalibrateFromSplitwise(path, "h100-80gb", GpuProfile{}, RealCatalog());
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(StartsWith(Error(p.status()), path +
                                                ":2: model 'gpt-5' (normalised 'gpt-5') is not in the model catalog; "
                                                "expected one of models/catalog/llms.yaml, closest: "))
      << p.status();
}

// ---------------------------------------------------------------------------------------------------------
// In-sample detection by content.

TEST(MeasurementDigest, ContentNotPlace) {
  const std::string dir = TempDir();
  fs::create_directories(dir + "/a/set/sub");
  fs::create_directories(dir + "/b/set/sub");
  const std::string f1 = WriteFile(dir + "/a/set", "x.csv", "1,2\n");
  const std::string f2 = WriteFile(dir + "/b/set", "y.csv", "1,2\n");
  WriteFile(dir + "/a/set/sub", "z.csv", "3\n");
  WriteFile(dir + "/b/set/sub", "z.csv", "3\n");
  // A file: its bytes alone.
  EXPECT_EQ(*MeasurementSetDigest(f1), *MeasurementSetDigest(f2));
  EXPECT_TRUE(StartsWith(*MeasurementSetDigest(f1), "fnv1a64:"));
  EXPECT_EQ(MeasurementSetDigest(f1)->size(), 24u);
  // A folder: its files' relative paths and bytes (x.csv vs y.csv differ).
  EXPECT_NE(*MeasurementSetDigest(dir + "/a/set"), *MeasurementSetDigest(dir + "/b/set"));
  WriteFile(dir + "/b/set", "x.csv", "1,2\n");
  fs::remove(dir + "/b/set/y.csv");
  EXPECT_EQ(*MeasurementSetDigest(dir + "/a/set"), *MeasurementSetDigest(dir + "/b/set"));
  WriteFile(dir + "/b/set/sub", "z.csv", "4\n");
  EXPECT_NE(*MeasurementSetDigest(dir + "/a/set"), *MeasurementSetDigest(dir + "/b/set"));
  EXPECT_FALSE(MeasurementSetDigest(dir + "/missing.csv").ok());
}

TEST(MeasurementDigest, HeldOutCopyNamedLikeTheTrainingSet) {
  const std::string dir = TempDir();
  for (const char* d : {"train/splitwise", "copy/splitwise", "heldout/splitwise"})
    fs::create_directories(dir + "/" + d);
  const std::string train = WriteFile(dir + "/train/splitwise", "perf.csv", SplitwiseCsv({"llama2-70b"}));
  const std::string copy = WriteFile(dir + "/copy/splitwise", "perf.csv", SplitwiseCsv({"llama2-70b"}));
  const std::string heldout =
      WriteFile(dir + "/heldout/splitwise", "perf.csv", SplitwiseCsv({"llama2-70b", "llama2-70b"}));
  GpuProfile p;
  p.sources = {train + " (Splitwise end-to-end, hardware h100-80gb, 1 rows)"};
  auto set = FittedSetOf(train);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->what, train);
  p.fitted_on = {*set};
  EXPECT_TRUE(FittedOn(p, train));
  EXPECT_TRUE(FittedOn(p, copy));      // the same measurements elsewhere: in-sample
  EXPECT_FALSE(FittedOn(p, heldout));  // other measurements in a folder named like the training one: held-out
  // A profile written before digests keeps the old rule (last two path components) and cannot tell them apart.
  GpuProfile old = p;
  old.fitted_on.clear();
  EXPECT_TRUE(FittedOn(old, heldout));
  EXPECT_FALSE(FittedOn(old, dir + "/train/other.csv"));
  // A source without a digest in a profile that has digests for others: the old rule for that one only.
  GpuProfile mixed = p;
  mixed.sources.push_back(dir + "/train/network/all_reduce.csv (NCCL all_reduce on DGX-H100, 5 intra-node rows)");
  EXPECT_FALSE(FittedOn(mixed, heldout));
  EXPECT_TRUE(FittedOn(mixed, dir + "/heldout/network/all_reduce.csv"));
}

TEST(MeasurementDigest, ProfileFileKeepsDigests) {
  const std::string dir = TempDir();
  GpuProfile p;
  p.gpu = "H100-SXM-80GB";
  p.created = "2026-12-01";
  p.sources = {"a.csv (test)"};
  p.fitted_on = {{"fnv1a64:0123456789abcdef", "a.csv"}};
  ASSERT_TRUE(WriteGpuProfile(p, dir + "/p.yaml").ok());
  auto q = LoadGpuProfile(dir + "/p.yaml");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->fitted_on.size(), 1u);
  EXPECT_EQ(q->fitted_on[0].digest, "fnv1a64:0123456789abcdef");
  EXPECT_EQ(q->fitted_on[0].what, "a.csv");
  std::ifstream in(dir + "/p.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("0123456789abcdef"), 16, "0123");
  WriteFile(dir, "bad.yaml", text);
  auto bad = LoadGpuProfile(dir + "/bad.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(Error(bad.status()).find("fitted_on[0].digest is 'fnv1a64:0123'"), std::string::npos) << bad.status();
  EXPECT_NE(Error(bad.status()).find("expected \"fnv1a64:\" and 16 lower-case hex digits"), std::string::npos)
      << bad.status();
}

// The shipped profiles name every source with the digest of its measurements as they are in ../shared/data.
TEST(MeasurementDigest, ShippedProfilesDigestTheirSources) {
  SKIP_WITHOUT_SHARED_DATA();
  const fs::path root = fs::path(Catalog::DefaultDir()).parent_path().parent_path();  // the source tree
  int profiles = 0;
  for (const auto& e : fs::recursive_directory_iterator(root / "models/calibration")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::string first;
    std::getline(in, first);
    if (first.rfind("# gpufleet calibration profile", 0) != 0) continue;
    auto p = LoadGpuProfile(e.path().string());
    ASSERT_TRUE(p.ok()) << p.status();
    ++profiles;
    // Every measurement source (a path, then its description) has a digest, except derivation notes.
    for (const std::string& source : p->sources) {
      const std::string path = source.substr(0, source.find(" ("));
      if (!fs::exists(root / path)) continue;  // not a measurement set ("spec sheet of ...")
      EXPECT_TRUE(std::any_of(p->fitted_on.begin(), p->fitted_on.end(), [&](const auto& f) { return f.what == path; }))
          << e.path() << ": no fitted_on digest for " << path;
    }
    for (const auto& f : p->fitted_on) {
      auto digest = MeasurementSetDigest((root / f.what).string());
      ASSERT_TRUE(digest.ok()) << digest.status();
      EXPECT_EQ(*digest, f.digest) << e.path() << ": " << f.what;
      EXPECT_TRUE(FittedOn(*p, (root / f.what).string())) << f.what;
    }
  }
  EXPECT_GE(profiles, 3);
}

}  // namespace
}  // namespace gpufleet
