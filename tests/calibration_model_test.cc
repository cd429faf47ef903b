// The operator model, its fitting, calibration profiles, and honest (held-out) accuracy on real data.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

#include "models/calibrated_perf_model.h"
#include "models/calibration/calibrate.h"
#include "models/calibration/fit.h"
#include "models/calibration/nelder_mead.h"
#include "models/calibration/operator_model.h"
#include "tests/test_util.h"
#include "tools/microbench/microbench_csv.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/synthetic.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

const GpuSpec& H100() { return *RealCatalog().FindGpu("H100-SXM-80GB"); }

TEST(CalibrationNelderMead, FindsTheMinimumOfARosenbrockValley) {
  auto f = [](const std::vector<double>& x) {
    return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
  };
  MinimizeOptions o;
  o.max_evaluations = 20000;
  o.tolerance = 1e-16;
  const MinimizeResult r = NelderMead(f, {-1.2, 1.0}, o);
  EXPECT_NEAR(r.x[0], 1.0, 1e-3);
  EXPECT_NEAR(r.x[1], 1.0, 2e-3);
}

TEST(CalibrationOperatorModel, GemmIsMemoryBoundSmallAndComputeBoundLarge) {
  GpuProfile p;  // built-in values
  const OperatorModel ops(p, H100(), 450);
  const double n = 8192, k = 8192;
  const double weights_time = 2 * n * k / (H100().hbm_gbps * 1e9 * p.gemm.memory_efficiency);
  EXPECT_NEAR(ops.Gemm(GemmKind::kOther, 1, n, k), weights_time + p.gemm.launch_s, 0.05 * weights_time);
  const double m = 16384;
  const double fill = m / (m + p.gemm.m_half) * n / (n + p.gemm.n_half);
  const double compute_time = 2 * m * n * k / (H100().fp16_tflops * 1e12 * p.gemm.compute_efficiency * fill);
  EXPECT_NEAR(ops.Gemm(GemmKind::kOther, m, n, k), compute_time, 0.03 * compute_time);
  double last = 0;
  for (double mm : {1.0, 8.0, 64.0, 512.0, 4096.0, 32768.0}) {
    const double t = ops.Gemm(GemmKind::kOther, mm, n, k);
    EXPECT_GT(t, last) << mm;
    last = t;
  }
  // Half the clock: compute-bound time doubles, memory-bound time barely moves.
  const OperatorModel slow(p, H100(), 450, 0.5);
  EXPECT_NEAR(slow.Gemm(GemmKind::kOther, m, n, k) / ops.Gemm(GemmKind::kOther, m, n, k), 2.0, 0.05);
  EXPECT_LT(slow.Gemm(GemmKind::kOther, 1, n, k) / ops.Gemm(GemmKind::kOther, 1, n, k), 1.2);
}

TEST(CalibrationOperatorModel, ProjectionFactorsAndSustainedSlowdownActOnComputeOnly) {
  GpuProfile p;
  p.gemm.mlp_down_factor = 1.25;
  const OperatorModel ops(p, H100(), 450);
  const double m = 16384, n = 8192, k = 8192;
  // A compute-bound down projection runs 1.25x closer to peak; other GEMMs are untouched.
  EXPECT_NEAR(ops.Gemm(GemmKind::kOther, m, n, k) / ops.Gemm(GemmKind::kMlpDown, m, n, k), 1.25, 0.02);
  EXPECT_DOUBLE_EQ(ops.Gemm(GemmKind::kOther, m, n, k), ops.Gemm(GemmKind::kQkv, m, n, k));
  // A one-token GEMM is weight-bound: the factor barely moves it.
  EXPECT_NEAR(ops.Gemm(GemmKind::kMlpDown, 1, n, k) / ops.Gemm(GemmKind::kOther, 1, n, k), 1.0, 0.01);

  GpuProfile hot;
  hot.gemm.sustained_slowdown = 0.2;
  hot.gemm.sustained_s = 1e-3;
  const OperatorModel throttled(hot, H100(), 450);
  const OperatorModel plain(GpuProfile{}, H100(), 450);
  // Far longer than sustained_s: the full 20%; far shorter: almost none.
  EXPECT_NEAR(throttled.Gemm(GemmKind::kOther, 8 * m, n, k) / plain.Gemm(GemmKind::kOther, 8 * m, n, k), 1.2, 0.01);
  EXPECT_NEAR(throttled.Gemm(GemmKind::kOther, 64, 1024, 1024) / plain.Gemm(GemmKind::kOther, 64, 1024, 1024), 1.0,
              0.01);
}

TEST(CalibrationOperatorModel, CacheResidentWorkingSetsReadFaster) {
  EXPECT_DOUBLE_EQ(CacheResidency(1e6, 0), 0);  // no cache in the catalog: no effect
  EXPECT_NEAR(CacheResidency(1e6, 50e6), 1, 1e-6);
  EXPECT_DOUBLE_EQ(CacheResidency(50e6, 50e6), 0.5);
  EXPECT_LT(CacheResidency(200e6, 50e6), 0.01);
  GpuProfile cold;
  cold.stream["residual_add"].launch_s = 1e-9;  // streaming time alone
  GpuProfile p = cold;
  p.stream["residual_add"].cache_speedup = 1;  // twice the bandwidth when resident
  const OperatorModel ops(p, H100(), 450);
  const OperatorModel no_cache(cold, H100(), 450);
  // A 10 MB add fits the H100's 50 MB L2: about twice as fast; a 1 GB one streams from HBM either way.
  EXPECT_NEAR(no_cache.Stream("residual_add", 1e5, 10e6) / ops.Stream("residual_add", 1e5, 10e6), 2.0, 0.05);
  EXPECT_NEAR(no_cache.Stream("residual_add", 1e5, 1e9) / ops.Stream("residual_add", 1e5, 1e9), 1.0, 1e-3);
  // A kind that gets half the cache: a 40 MB working set fits the H100's 50 MB L2 less well than before.
  GpuProfile half = p;
  half.stream["residual_add"].cache_fraction = 0.5;
  const OperatorModel halved(half, H100(), 450);
  EXPECT_GT(halved.Stream("residual_add", 1e5, 40e6), 1.5 * ops.Stream("residual_add", 1e5, 40e6));
}

TEST(CalibrationOperatorModel, MemoryBoundKernelsCostAtLeastOneWave) {
  GpuProfile p;
  StreamParams& norm = p.stream["norm"];
  norm.launch_s = 1e-6;
  norm.wave_rows_per_sm = 2;  // a wave is 264 rows on the H100's 132 SMs
  norm.smoothness = 16;       // close to a plain maximum
  const OperatorModel ops(p, H100(), 450);
  auto t = [&](double rows, double width) { return ops.Stream("norm", rows, 2 * rows * width * 2); };
  // Below a wave the time hardly moves; far above it, it grows with the rows.
  EXPECT_NEAR(t(8, 8192) / t(128, 8192), 1.0, 0.01);
  EXPECT_NEAR((t(8192, 8192) - norm.launch_s) / (t(4096, 8192) - norm.launch_s), 2.0, 0.01);
  // The one-wave floor scales with the row's width (launch aside).
  EXPECT_NEAR((t(8, 8192) - norm.launch_s) / (t(8, 4096) - norm.launch_s), 2.0, 0.01);
  // No row count (a copy kernel): plain streaming.
  EXPECT_NEAR(ops.Stream("norm", 0, 1e9), norm.launch_s + 1e9 / (H100().hbm_gbps * 1e9 * norm.memory_efficiency), 1e-9);
}

TEST(CalibrationPerfModel, ShortPrefillsAreLaunchBoundAndDecodeIsNot) {
  // The shipped H100 profile on Llama-2-70B at TP8 (Splitwise: prefills of 128 to 512 tokens all ~55 ms).
  auto profile = LoadGpuProfile(CalibrationRoot() + "/splitwise-2023" + "/H100-SXM-80GB.yaml");
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_GT(profile->framework.prefill_launch_per_layer_s, 0);
  const ReplicaHardware hw{RealCatalog().FindLlm("Llama-2-70B"), &H100(), RealCatalog().FindNode("DGX-H100"), 8};
  const CalibratedPerfModel model(*profile, hw);
  auto prefill = [&](uint32_t tokens) {
    const SeqWork s{tokens, 0};
    return model.IterationTime(std::span<const SeqWork>(&s, 1));
  };
  const double launch = profile->framework.prefill_launch_per_layer_s * 80;
  EXPECT_GE(prefill(128), launch);
  EXPECT_LT(prefill(256) / prefill(128), 1.15);   // launch-bound: twice the tokens, about the same time
  EXPECT_GT(prefill(4096) / prefill(2048), 1.8);  // compute-bound
  // A decode step (CUDA graph) pays no launch time: it is well under a short prefill.
  const std::vector<SeqWork> decode(1, SeqWork{1, 512});
  EXPECT_LT(model.IterationTime(decode), 0.8 * prefill(128));
  // The breakdown still adds up to the total.
  const IterationBreakdown b = model.Breakdown(std::vector<SeqWork>(1, SeqWork{128, 0}));
  EXPECT_NEAR(b.total(), prefill(128), 1e-12);
  EXPECT_GT(b.framework_s, launch - b.gpu_s());
}

TEST(CalibrationFit, RecoversTheTimesOfKnownParameters) {
  GemmParams truth;
  truth.launch_s = 5e-6;
  truth.compute_efficiency = 0.7;
  truth.m_half = 100;
  truth.n_half = 300;
  truth.memory_efficiency = 0.85;
  truth.smoothness = 4;
  truth.attn_out_factor = 0.9;
  truth.mlp_down_factor = 1 / 0.9;
  truth.sustained_slowdown = 0.15;
  truth.sustained_s = 5e-4;
  std::vector<GemmSample> samples;
  for (int64_t m : {1, 4, 16, 64, 256, 1024, 4096, 16384})
    for (auto [op, n, k] : std::vector<std::tuple<std::string, int64_t, int64_t>>{{"attn_post_proj", 8192, 8192},
                                                                                  {"attn_pre_proj", 1280, 8192},
                                                                                  {"mlp_down_proj", 8192, 3584},
                                                                                  {"mlp_up_proj", 57344, 8192},
                                                                                  {"mlp_down_proj", 4096, 11008}}) {
      GemmSample s;
      s.op = op;
      s.m = m, s.n = n, s.k = k;
      s.time_s = PredictGemm(truth, H100(), s);
      samples.push_back(s);
    }
  const GemmParams fitted = FitGemm(samples, H100(), GemmParams{});
  for (const auto& s : samples) EXPECT_NEAR(PredictGemm(fitted, H100(), s) / s.time_s, 1.0, 0.03) << s.m << "x" << s.n;
  // The factors keep a geometric mean of 1.
  EXPECT_NEAR(fitted.qkv_factor * fitted.attn_out_factor * fitted.mlp_up_factor * fitted.mlp_down_factor, 1.0, 1e-9);

  // GEMMs of no projection (a microbenchmark's shapes) leave the factors where they started.
  for (auto& s : samples) s.op.clear();
  GemmParams start;
  start.mlp_up_factor = 1.1;
  const GemmParams plain = FitGemm(samples, H100(), start);
  EXPECT_DOUBLE_EQ(plain.mlp_up_factor, 1.1);
  EXPECT_DOUBLE_EQ(plain.qkv_factor, 1.0);
}

TEST(CalibrationProfile, RoundTripsThroughYaml) {
  GpuProfile p;
  p.gpu = "H100-SXM-80GB";
  p.status = "calibrated";
  p.created = "2026-11-28";
  p.sources = {"a.csv", "b.csv"};
  p.command = "gpufleet calibrate ...";
  p.gemm.compute_efficiency = 0.777;
  p.stream["rope"].memory_efficiency = 0.55;
  p.framework.per_sequence_s = 2.5e-4;
  p.fit["gemm"] = FitError{"leave-one-model-out", 0.05, 0.07, 0.15, 0.9, 1234};
  const std::string path = testing::TempDir() + "/p.yaml";
  ASSERT_TRUE(WriteGpuProfile(p, path).ok());
  auto q = LoadGpuProfile(path);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->gpu, p.gpu);
  EXPECT_EQ(q->sources, p.sources);
  EXPECT_NEAR(q->gemm.compute_efficiency, 0.777, 1e-9);
  EXPECT_NEAR(q->stream.at("rope").memory_efficiency, 0.55, 1e-9);
  EXPECT_NEAR(q->framework.per_sequence_s, 2.5e-4, 1e-12);
  EXPECT_EQ(q->fit.at("gemm").n, 1234);
}

TEST(CalibrationProfile, MalformedProfileNamesTheLine) {
  const std::string dir = testing::TempDir();
  GpuProfile p;
  p.gpu = "A40";
  p.created = "x";
  ASSERT_TRUE(WriteGpuProfile(p, dir + "/good.yaml").ok());
  std::ifstream in(dir + "/good.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("compute_efficiency: 0.75");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 24, "compute_efficiency: -3");
  testing::WriteFile(dir, "bad.yaml", text);
  auto q = LoadGpuProfile(dir + "/bad.yaml");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("bad.yaml:"), std::string::npos) << q.status();
  EXPECT_NE(q.status().message().find("gemm.compute_efficiency is -3, out of range"), std::string::npos) << q.status();
}

TEST(CalibrationProfile, AnOldProfileSaysToRegenerateAndDoesNotBreakItsNeighbours) {
  const std::string dir = testing::TempDir();
  const std::string shipped = CalibrationRoot() + "/splitwise-2023";
  std::filesystem::copy_file(shipped + "/H100-SXM-80GB.yaml", dir + "/H100-SXM-80GB.yaml");
  // A profile from before revisions were written (it has no model_revision line).
  std::ifstream in(shipped + "/A40.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("model_revision:");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, text.find('\n', at) + 1 - at);
  testing::WriteFile(dir, "A40.yaml", text);
  auto old = LoadGpuProfile(dir + "/A40.yaml");
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("A40.yaml:"), std::string::npos) << old.status();
  EXPECT_NE(old.status().message().find("older gpufleet"), std::string::npos) << old.status();
  EXPECT_NE(old.status().message().find("regenerate"), std::string::npos) << old.status();
  // The H100 has everything in its own file: the bad neighbour is never read.
  EXPECT_TRUE(ProfileForGpu(H100(), RealCatalog(), dir).ok());
  // A GPU that must borrow says what it was looking for.
  auto l4 = ProfileForGpu(*RealCatalog().FindGpu("L4"), RealCatalog(), dir);
  ASSERT_FALSE(l4.ok());
  EXPECT_NE(l4.status().message().find("while looking for a profile to borrow from for L4"), std::string::npos)
      << l4.status();
}

TEST(CalibrationProfile, ShippedProfilesAndDerivations) {
  const std::string dir = CalibrationRoot() + "/splitwise-2023";
  for (const char* gpu : {"A100-SXM-80GB", "H100-SXM-80GB", "A40"}) {
    auto p = ProfileForGpu(*RealCatalog().FindGpu(gpu), RealCatalog(), dir);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(p->calibrated()) << gpu;
    EXPECT_GT(p->fit.count("gemm"), 0u) << gpu;
    EXPECT_FALSE(p->sources.empty()) << gpu;
  }
  // Every other catalog GPU gets a derived, uncalibrated profile from the nearest calibrated architecture.
  for (const auto& [name, gpu] : RealCatalog().gpus()) {
    auto p = ProfileForGpu(gpu, RealCatalog(), dir);
    ASSERT_TRUE(p.ok()) << name << ": " << p.status();
    if (name == "A100-SXM-80GB" || name == "H100-SXM-80GB" || name == "A40") continue;
    EXPECT_FALSE(p->calibrated()) << name;
    EXPECT_FALSE(p->derived_from.empty()) << name;
  }
  EXPECT_EQ(ProfileForGpu(*RealCatalog().FindGpu("H200-SXM-141GB"), RealCatalog(), dir)->derived_from, "H100-SXM-80GB");
  EXPECT_EQ(ProfileForGpu(*RealCatalog().FindGpu("A100-SXM-40GB"), RealCatalog(), dir)->derived_from, "A100-SXM-80GB");
  // Serving-stack parameters come from end-to-end data: the H200's with its H100 efficiencies; the A40,
  // whose profile is kernels only, borrows the nearest GPU's that has some (the A100: same architecture).
  const auto h100 = LoadGpuProfile(dir + "/H100-SXM-80GB.yaml");
  const auto a100 = LoadGpuProfile(dir + "/A100-SXM-80GB.yaml");
  ASSERT_TRUE(h100.ok() && a100.ok());
  const auto h200 = ProfileForGpu(*RealCatalog().FindGpu("H200-SXM-141GB"), RealCatalog(), dir);
  EXPECT_TRUE(h200->framework_from.empty());
  EXPECT_EQ(h200->framework.per_rank_s, h100->framework.per_rank_s);
  const auto a40 = ProfileForGpu(*RealCatalog().FindGpu("A40"), RealCatalog(), dir);
  EXPECT_TRUE(a40->calibrated());
  EXPECT_EQ(a40->framework_from, "A100-SXM-80GB");
  EXPECT_EQ(a40->framework.prefill_launch_per_layer_s, a100->framework.prefill_launch_per_layer_s);
  EXPECT_EQ(a40->gemm.compute_efficiency, LoadGpuProfile(dir + "/A40.yaml")->gemm.compute_efficiency);
  const auto l4 = ProfileForGpu(*RealCatalog().FindGpu("L4"), RealCatalog(), dir);
  EXPECT_EQ(l4->derived_from, "A40");
  EXPECT_FALSE(l4->framework_from.empty());
}

TEST(CalibrationPerfModel, LabelsSayWhetherTheProfileIsCalibrated) {
  const LlmSpec& llm = *RealCatalog().FindLlm("Llama-2-7B");
  auto h100 = ProfileForGpu(H100(), RealCatalog(), CalibrationRoot() + "/splitwise-2023");
  auto l4 = ProfileForGpu(*RealCatalog().FindGpu("L4"), RealCatalog(), CalibrationRoot() + "/splitwise-2023");
  ASSERT_TRUE(h100.ok() && l4.ok());
  const CalibratedPerfModel a(*h100, ReplicaHardware{&llm, &H100(), RealCatalog().FindNode("DGX-H100"), 1});
  const CalibratedPerfModel b(*l4, ReplicaHardware{&llm, RealCatalog().FindGpu("L4"), RealCatalog().FindNode("aws-g6.xlarge"), 1});
  EXPECT_NE(a.Label().find("H100-SXM-80GB: calibrated"), std::string::npos) << a.Label();
  EXPECT_NE(b.Label().find("L4: UNCALIBRATED"), std::string::npos) << b.Label();
  EXPECT_NE(b.Label().find("serving-stack times of"), std::string::npos) << b.Label();
  EXPECT_EQ(a.Label().find("serving-stack"), std::string::npos) << a.Label();
  // The same decode batch takes longer on the L4 (less bandwidth) than on the H100.
  std::vector<SeqWork> decode(8, SeqWork{1, 1000});
  EXPECT_GT(b.IterationTime(decode), a.IterationTime(decode));
}

// Held-out accuracy on the real kernel measurements: fit on three models, predict the fourth.
TEST(CalibrationHeldOut, GemmsOfAnUnseenModel) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present";
  auto set = ReadVidurComputeDir(testing::SharedData("vidur-profiles/compute/a100"));
  ASSERT_TRUE(set.ok()) << set.status();
  std::vector<GemmSample> train, test;
  for (const auto& s : set->gemms) (s.origin.model == "Llama-2-70b-hf" ? test : train).push_back(s);
  ASSERT_FALSE(test.empty());
  const GpuSpec& a100 = *RealCatalog().FindGpu("A100-SXM-80GB");
  const GemmParams p = FitGemm(train, a100, GemmParams{});
  std::vector<double> ape;
  for (const auto& s : test) ape.push_back(std::fabs(PredictGemm(p, a100, s) / s.time_s - 1));
  const FitError e = SummarizeErrors(ape, "held-out model");
  std::printf("A100 GEMMs of held-out Llama-2-70B: median %.1f%%, p90 %.1f%%, n=%lld\n", e.median_ape * 100,
              e.p90_ape * 100, static_cast<long long>(e.n));
  EXPECT_LT(e.median_ape, 0.08);
  EXPECT_LT(e.p90_ape, 0.25);
}

TEST(CalibrationHeldOut, SplitwiseDecodeOfAnUnseenPromptSize) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present";
  const std::string path = testing::SharedData("splitwise/perf_model_llama2-70b.csv");
  auto rows = ReadSplitwise(path);
  ASSERT_TRUE(rows.ok()) << rows.status();
  auto base = LoadGpuProfile(CalibrationRoot() + "/splitwise-2023" + "/H100-SXM-80GB.yaml");
  ASSERT_TRUE(base.ok()) << base.status();
  base->framework = FrameworkParams{};
  // Fit the end-to-end parameters on every prompt size but 2048 (rows written to a temporary file).
  std::string train = "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,e2e_time,tensor_parallel\n";
  std::vector<EndToEndSample> test;
  for (const auto& s : *rows) {
    if (s.hardware != "h100-80gb") continue;
    if (s.prompt_tokens == 2048) {
      test.push_back(s);
      continue;
    }
    train += absl::StrFormat("llama2-70b,h100-80gb,%d,%d,%d,0,0,%.6f,%.6f,%.6f,%d\n", s.prompt_tokens, s.batch,
                             s.output_tokens, s.prefill_s * 1e3, s.decode_iteration_s * 1e3, s.e2e_s * 1e3,
                             s.tensor_parallel);
  }
  const std::string train_path = testing::WriteFile(testing::TempDir(), "train.csv", train);
  auto fitted = CalibrateFromSplitwise(train_path, "h100-80gb", *base, RealCatalog());
  ASSERT_TRUE(fitted.ok()) << fitted.status();
  auto hw = ResolveSplitwiseHardware("h100-80gb", RealCatalog());
  std::vector<double> ape;
  for (const auto& s : test) {
    const auto e = PredictEndToEnd(s, *fitted, *hw, *RealCatalog().FindLlm("Llama-2-70B"));
    ape.push_back(std::fabs(e.decode_iteration_s / s.decode_iteration_s - 1));
  }
  ASSERT_EQ(ape.size(), 15u);
  const FitError e = SummarizeErrors(ape, "held-out prompt size");
  std::printf("H100 decode iterations at held-out prompt 2048: median %.1f%%, max %.1f%%\n", e.median_ape * 100,
              e.max_ape * 100);
  EXPECT_LT(e.median_ape, 0.20);
}

TEST(CalibrationCli, ValidateJsonHasTheOverallEntry) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present";
  auto r = testing::RunGpufleet("validate --source vidur " + testing::SharedData("vidur-profiles/compute/a40") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  for (const char* key : {"median_ape", "mape", "p90_ape", "n"}) EXPECT_TRUE(j["overall"].contains(key)) << key;
  EXPECT_TRUE(j["profile_fitted_on_these_measurements"].get<bool>());
  EXPECT_EQ(j["overall"]["method"], "leave-one-model-out");
  EXPECT_GE(j["groups"].size(), 9u);
}

TEST(CalibrationCli, ValidatePointsListsEveryPointWithItsPredictions) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present";
  const std::string dir = testing::TempDir();
  const std::string csv = dir + "/points.csv";
  auto r = testing::RunGpufleet("validate --source vidur " + testing::SharedData("vidur-profiles/compute/a40") +
                                " --json --points " + csv);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  std::ifstream in(csv);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line, "file,row,group,config,measured_s,predicted_s,cross_validated_s,ape,cross_validated_ape");
  int64_t n = 0;
  double ape_sum = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::vector<std::string> f = absl::StrSplit(line, ',');
    ASSERT_EQ(f.size(), 9u) << line;
    EXPECT_GT(std::stod(f[4]), 0) << line;
    EXPECT_NEAR(std::stod(f[8]), std::fabs(std::stod(f[6]) / std::stod(f[4]) - 1), 1e-5) << line;
    ape_sum += std::stod(f[8]);
  }
  // Every point is there, and their errors are the report's.
  EXPECT_EQ(n, j["overall_cross_validated"]["n"].get<int64_t>());
  EXPECT_NEAR(ape_sum / n, j["overall_cross_validated"]["mape"].get<double>(), 1e-5);
  // An unwritable path: exit 2, nothing written.
  auto bad = testing::RunGpufleet("validate --source vidur " + testing::SharedData("vidur-profiles/compute/a40") +
                                  " --points " + dir + "/no/such/dir/p.csv", true);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("no/such/dir/p.csv: directory"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/no"));
}

TEST(CalibrationCli, CalibrateRejectsABadMeasurementFileWithItsRow) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "sw.csv",
                     "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,e2e_time,tensor_parallel\n"
                     "llama2-70b,h100-80gb,512,1,128,0,0,60,29,3000,4\n"
                     "llama2-70b,h100-80gb,512,1,128,0,0,sixty,29,3000,4\n");
  const std::string out = dir + "/out.yaml";
  auto r = testing::RunGpufleet("calibrate --source splitwise " + dir + "/sw.csv --gpu H100-SXM-80GB --hardware h100-80gb -o " + out, true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sw.csv:3"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(CalibrationCli, CalibratedScenarioRunsAndSaysWhichProfilesAreDerived) {
  const std::string scenario = testing::WriteFile(testing::TempDir(), "s.yaml", R"(seed: 1
horizon_s: 20
cluster: {nodes: [{type: DGX-H100, count: 1}, {type: aws-g6.48xlarge, count: 1}]}
model: Llama-2-7B
perf_model: {type: calibrated}
deployment:
  - {name: h100, gpu: H100-SXM-80GB, replicas: 2}
  - {name: l4, gpu: L4, replicas: 2, max_batched_tokens: 2048, scheduler: sarathi}
workload:
  synthetic:
    rate_rps: 4
    prompt_tokens: {dist: fixed, value: 500}
    output_tokens: {dist: fixed, value: 100}
)");
  auto r = testing::RunGpufleet("simulate " + scenario + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  const std::string label = j["perf_model"];
  EXPECT_NE(label.find("H100-SXM-80GB: calibrated"), std::string::npos) << label;
  EXPECT_NE(label.find("L4: UNCALIBRATED"), std::string::npos) << label;
  EXPECT_EQ(j["requests_completed"], j["requests_arrived"]);
}

}  // namespace
}  // namespace gpufleet


namespace gpufleet {
namespace {

// The microbenchmark CSV round trip: a synthetic file (the suite's own roofline estimate, labelled
// synthetic) through `gpufleet calibrate --source microbench` gives a calibrated profile that reproduces it.
TEST(CalibrationMicrobench, SyntheticSuiteOutputCalibratesAProfile) {
  const GpuSpec& gpu = *testing::RealCatalog().FindGpu("A100-SXM-80GB");
  auto models = microbench::SelectModels(testing::RealCatalog(), {"Llama-2-7B", "Llama-2-70B"});
  ASSERT_TRUE(models.ok()) << models.status();
  microbench::PlanOptions options = microbench::PlanOptions::Defaults(/*quick=*/true);
  options.ranks = 8;
  auto plan = microbench::BuildPlan(*models, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::string dir = testing::TempDir();
  const std::string csv = dir + "/a100-synthetic.csv";
  ASSERT_TRUE(microbench::WriteSyntheticCsv(csv, *plan, gpu).ok());
  const std::string out = dir + "/A100.yaml";
  auto r = testing::RunGpufleet("calibrate --source microbench " + csv + " --gpu A100-SXM-80GB --node DGX-A100 -o " + out, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto profile = LoadGpuProfile(out);
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_TRUE(profile->calibrated());
  ASSERT_EQ(profile->fit.count("gemm"), 1u);
  // The synthetic rows come from a roofline, which the GEMM model contains: the fit must be close.
  EXPECT_LT(profile->fit.at("gemm").median_ape, 0.10) << r.output;
  EXPECT_NE(profile->sources.front().find("synthetic"), std::string::npos);
}

TEST(CalibrationMicrobench, MalformedCsvNamesTheRow) {
  const std::string dir = testing::TempDir();
  std::string text = "# synthetic\n" + microbench::MicrobenchCsvHeader() + "\n";
  text += "1,gpu,1,13.0,gemm,fp16,-4,8,8,0,0,0,0,0,0,0,1,0,10,9,11,20,,\n";
  testing::WriteFile(dir, "bad-synthetic.csv", text);
  auto r = testing::RunGpufleet("calibrate --source microbench " + dir + "/bad-synthetic.csv --gpu A40 -o " + dir + "/x.yaml", true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad-synthetic.csv:3"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.yaml"));
}

}  // namespace
}  // namespace gpufleet

namespace gpufleet {
namespace {

// A hand-made Splitwise row: `row` is its 1-based line, times are seconds.
EndToEndSample E2eRow(int row, const std::string& hardware, int tp, int prompt, int batch, double prefill_s) {
  EndToEndSample s;
  s.origin.file = "hand.csv";
  s.origin.row = row;
  s.model = "llama2-70b";
  s.hardware = hardware;
  s.tensor_parallel = tp;
  s.prompt_tokens = prompt;
  s.batch = batch;
  s.output_tokens = 128;
  s.prefill_s = prefill_s;
  s.decode_iteration_s = 0.03;
  s.e2e_s = prefill_s + 128 * 0.03;
  return s;
}

std::vector<int64_t> RowNumbers(const std::vector<EndToEndSample>& rows) {
  std::vector<int64_t> out;
  for (const auto& s : rows) out.push_back(s.origin.row);
  return out;
}

TEST(CalibrationScreen, ConsistentRowsAreAllKept) {
  const std::vector<EndToEndSample> rows = {
      E2eRow(2, "h100-80gb", 4, 512, 1, 0.10),
      E2eRow(3, "h100-80gb", 4, 512, 32, 2.40),
      E2eRow(4, "h100-80gb", 4, 512, 64, 4.80),
      E2eRow(5, "h100-80gb", 4, 1024, 32, 4.90),
      // Only 30% faster than row 6 with less work (2048 x 1): inside the 2x margin, so kept.
      E2eRow(6, "h100-80gb", 4, 2048, 1, 1.00),
      E2eRow(7, "h100-80gb", 4, 2048, 2, 0.70),
      // Would contradict row 3 (512 x 32, 2.4 s) if TP were ignored: another TP is never compared.
      E2eRow(8, "h100-80gb", 8, 512, 64, 0.40),
      // Would contradict rows 3 and 5 if hardware were ignored: other hardware is never compared.
      E2eRow(9, "a100-80gb", 4, 1024, 64, 0.40),
      // A repeat of row 4's configuration, three times faster: the same work (not strictly less), so kept.
      E2eRow(10, "h100-80gb", 4, 512, 64, 1.60),
  };
  const ScreenedRows screened = ScreenEndToEnd(rows);
  EXPECT_TRUE(screened.excluded.empty()) << screened.excluded.front().row.origin.row << ": "
                                         << screened.excluded.front().reason;
  EXPECT_EQ(RowNumbers(screened.kept), RowNumbers(rows));
}

TEST(CalibrationScreen, ARowFasterThanLessWorkIsExcludedNamingTheRow) {
  const std::vector<EndToEndSample> rows = {
      E2eRow(2, "h100-80gb", 2, 512, 1, 0.10),
      E2eRow(3, "h100-80gb", 2, 512, 32, 2.40),
      // Twice the prompts of row 3 prefilled six times faster: inconsistent.
      E2eRow(4, "h100-80gb", 2, 512, 64, 0.40),
      // Only 30% faster than row 5 (fewer tokens in the batch): kept.
      E2eRow(5, "h100-80gb", 2, 1024, 1, 0.50),
      E2eRow(6, "h100-80gb", 2, 1024, 2, 0.35),
      // The same inconsistent row at another TP has nothing to contradict it.
      E2eRow(7, "h100-80gb", 4, 512, 64, 0.40),
  };
  const ScreenedRows screened = ScreenEndToEnd(rows);
  ASSERT_EQ(screened.excluded.size(), 1u);
  const ExcludedRow& e = screened.excluded.front();
  EXPECT_EQ(e.row.origin.row, 4);
  EXPECT_EQ(e.row.batch, 64);
  EXPECT_EQ(e.row.tensor_parallel, 2);
  EXPECT_NE(e.reason.find("row 3"), std::string::npos) << e.reason;
  EXPECT_EQ(RowNumbers(screened.kept), (std::vector<int64_t>{2, 3, 5, 6, 7}));
}

TEST(CalibrationScreen, SplitwiseTp2Batch64RowsAreExcluded) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present";
  const std::string path = testing::SharedData("splitwise/perf_model_llama2-70b.csv");
  auto rows = ReadSplitwise(path);
  ASSERT_TRUE(rows.ok()) << rows.status();
  const ScreenedRows screened = ScreenEndToEnd(*rows);
  EXPECT_EQ(screened.kept.size() + screened.excluded.size(), rows->size());
  std::map<std::string, int> per_hardware;
  for (const auto& e : screened.excluded) {
    EXPECT_EQ(e.row.tensor_parallel, 2) << "row " << e.row.origin.row << ": " << e.reason;
    EXPECT_EQ(e.row.batch, 64) << "row " << e.row.origin.row << ": " << e.reason;
    EXPECT_NE(e.reason.find("(row "), std::string::npos) << e.reason;
    ++per_hardware[e.row.hardware];
  }
  EXPECT_EQ(screened.excluded.size(), 15u);
  EXPECT_EQ(per_hardware, (std::map<std::string, int>{{"a100-80gb", 5}, {"h100-80gb", 5}, {"h100-80gb-pcap", 5}}));
  for (const auto& s : screened.kept) {
    EXPECT_FALSE(s.tensor_parallel == 2 && s.batch == 64) << "row " << s.origin.row << " kept";
  }

  auto r = testing::RunGpufleet("validate --source splitwise " + path + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  ASSERT_TRUE(j.contains("excluded")) << r.output;
  ASSERT_TRUE(j["excluded"].is_array());
  EXPECT_EQ(j["excluded"].size(), 15u);
  for (const auto& e : j["excluded"]) {
    for (const char* key : {"file", "row", "hardware", "tensor_parallel", "reason"}) {
      EXPECT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
    }
    EXPECT_EQ(e["tensor_parallel"], 2) << e.dump();
    EXPECT_FALSE(e["reason"].get<std::string>().empty()) << e.dump();
  }
}

TEST(CalibrationFramework, ComputeScaleThrottlesLargeIterationsAndManyRanks) {
  FrameworkParams none;
  none.throttle_slowdown = 0;
  none.peer_slowdown = 0;
  for (double tokens : {0.0, 1.0, 512.0, 4096.0, 65536.0, 1e7})
    for (int ranks : {1, 2, 4, 8}) EXPECT_EQ(none.ComputeScale(tokens, ranks), 1.0) << tokens << " " << ranks;

  FrameworkParams peer;
  peer.throttle_slowdown = 0;
  peer.peer_slowdown = 0.3;
  peer.throttle_tokens = 4096;
  peer.throttle_sharpness = 2;
  // At T = throttle_tokens, H = 1/2.
  EXPECT_DOUBLE_EQ(peer.ComputeScale(4096, 1), 1.0);
  EXPECT_DOUBLE_EQ(peer.ComputeScale(4096, 8), 1.0 / (1.0 + 0.5 * 0.3 * 7));

  FrameworkParams both = peer;
  both.throttle_slowdown = 0.2;
  EXPECT_DOUBLE_EQ(both.ComputeScale(4096, 4), 1.0 / (1.0 + 0.5 * (0.2 + 0.3 * 3)));
  for (const FrameworkParams& p : {peer, both}) {
    // Falls with tokens (at a fixed number of ranks, with some slowdown)...
    for (int ranks : {2, 4, 8}) {
      double last = p.ComputeScale(16, ranks);
      for (double tokens : {64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0}) {
        const double s = p.ComputeScale(tokens, ranks);
        EXPECT_LT(s, last) << tokens << " tokens, " << ranks << " ranks";
        EXPECT_GT(s, 0.0);
        last = s;
      }
    }
    // ... and with ranks (at a fixed token count).
    for (double tokens : {256.0, 4096.0, 65536.0}) {
      double last = p.ComputeScale(tokens, 1);
      for (int ranks : {2, 4, 8}) {
        const double s = p.ComputeScale(tokens, ranks);
        EXPECT_LT(s, last) << tokens << " tokens, " << ranks << " ranks";
        last = s;
      }
    }
    // Tiny iterations run at the unthrottled throughput.
    EXPECT_NEAR(p.ComputeScale(1, 8), 1.0, 1e-6);
    EXPECT_NEAR(p.ComputeScale(8, 8), 1.0, 1e-5);
    EXPECT_EQ(p.ComputeScale(0, 8), 1.0);
  }
  // A softer knee (q = 1) still leaves tiny iterations within 0.1% of the boost-clock throughput.
  FrameworkParams soft = both;
  soft.throttle_sharpness = 1;
  EXPECT_NEAR(soft.ComputeScale(1, 8), 1.0, 1e-3);
  EXPECT_LT(soft.ComputeScale(65536, 8), soft.ComputeScale(4096, 8));
}

TEST(CalibrationFramework, BusyTimeOnsetFollowsTheGemmTimeNotTheTokens) {
  FrameworkParams p;
  p.peer_slowdown = 0.3;
  p.throttle_sharpness = 2;
  p.throttle_busy_s = 0.08;
  // At B = throttle_busy_s, H = 1/2, whatever the tokens; throttle_tokens plays no part.
  for (double tokens : {16.0, 4096.0, 65536.0}) {
    EXPECT_DOUBLE_EQ(p.ComputeScale(tokens, 8, 0.08), 1.0 / (1.0 + 0.5 * 0.3 * 7)) << tokens;
    EXPECT_EQ(p.ComputeScale(tokens, 8, 0.0), 1.0) << tokens;
  }
  EXPECT_LT(p.ComputeScale(2048, 8, 0.2), p.ComputeScale(2048, 8, 0.05));

  // In the perf model, B is the iteration's GEMM time on one rank: the same tokens hold a TP4 rank busy
  // twice as long as a TP8 one, so with a busy-time onset TP8 is throttled less at equal tokens.
  GpuProfile profile;
  profile.gpu = "H100-SXM-80GB";
  profile.created = "x";
  profile.framework.peer_slowdown = 0.3;
  profile.framework.throttle_sharpness = 4;
  profile.framework.throttle_busy_s = 0.08;
  const std::vector<SeqWork> prefill(1, SeqWork{2048, 0});
  auto slowdown = [&](const GpuProfile& prof, int tp) {
    GpuProfile plain = prof;
    plain.framework.peer_slowdown = 0;
    const ReplicaHardware hw{RealCatalog().FindLlm("Llama-2-70B"), &H100(), RealCatalog().FindNode("DGX-H100"), tp};
    return CalibratedPerfModel(prof, hw).Breakdown(prefill).gemm_s / CalibratedPerfModel(plain, hw).Breakdown(prefill).gemm_s;
  };
  const double tp4 = slowdown(profile, 4), tp8 = slowdown(profile, 8);
  EXPECT_GT(tp4, 1.0);
  EXPECT_GT(tp8, 1.0);
  EXPECT_LT((tp8 - 1) / 7, (tp4 - 1) / 3);  // less per peer at TP8: its ranks finish sooner
  // Written only when set, and read back.
  const std::string dir = testing::TempDir();
  ASSERT_TRUE(WriteGpuProfile(profile, dir + "/busy.yaml").ok());
  auto back = LoadGpuProfile(dir + "/busy.yaml");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_DOUBLE_EQ(back->framework.throttle_busy_s, 0.08);
  profile.framework.throttle_busy_s = 0;
  ASSERT_TRUE(WriteGpuProfile(profile, dir + "/tokens.yaml").ok());
  std::ifstream in(dir + "/tokens.yaml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("throttle_busy_s"), std::string::npos) << text;
}

}  // namespace
}  // namespace gpufleet
