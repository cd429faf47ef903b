// Measured GEMM shape corrections: building them, looking them up, storing them in profiles, and how
// well they predict a measured shape between its measurements on real data.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "models/calibrated_perf_model.h"
#include "models/calibration/calibrate.h"
#include "models/calibration/fit.h"
#include "models/calibration/gemm_shapes.h"
#include "models/calibration/operator_model.h"
#include "tests/test_util.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/synthetic.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

const GpuSpec& H100() { return *RealCatalog().FindGpu("H100-SXM-80GB"); }

GpuProfile WithGemm(const GemmParams& g) {
  GpuProfile p;
  p.gemm = g;
  return p;
}

// A library that switches to a slow kernel for 520..640 rows of one shape (as cuBLAS does for the H100's
// Llama-2-70B down projection) and runs another shape 10% faster than the equation throughout.
std::vector<GemmSample> SteppedSamples(const GemmParams& truth) {
  const OperatorModel model(WithGemm(truth), H100(), 0);
  std::vector<GemmSample> out;
  for (int64_t m = 8; m <= 2048; m += 8) {
    GemmSample a;
    a.op = "mlp_down_proj";
    a.m = m, a.n = 8192, a.k = 28672;
    a.time_s = model.Gemm(GemmKind::kOther, m, 8192, 28672) * (m >= 520 && m <= 640 ? 1.3 : 1.0);
    out.push_back(a);
    GemmSample b = a;
    b.op = "attn_post_proj";
    b.n = 8192, b.k = 1024;
    b.time_s = 0.9 * model.Gemm(GemmKind::kOther, m, 8192, 1024);
    out.push_back(b);
  }
  return out;
}

TEST(GemmShapes, MeasuredShapesFollowTheLibrarysStepsAndOthersTheEquation) {
  GemmParams g;
  g.qkv_factor = 1.2;  // a projection factor must not be applied on top of a measured ratio
  g.attn_out_factor = 0.8;
  const std::vector<GemmSample> samples = SteppedSamples(g);
  GpuProfile p;
  p.gemm = g;
  p.gemm_shapes = BuildGemmShapeCorrections(samples, H100(), g);
  ASSERT_EQ(p.gemm_shapes.size(), 2u);
  // Sorted by (n, k); the flat shape needs only its two end knots.
  EXPECT_EQ(p.gemm_shapes[0].k, 1024);
  EXPECT_EQ(p.gemm_shapes[0].m.size(), 2u);
  EXPECT_NEAR(p.gemm_shapes[0].factor[0], 0.9, 1e-4);
  EXPECT_LT(p.gemm_shapes[1].m.size(), 10u);  // the step: a few knots, not one per measurement
  const OperatorModel model(p, H100(), 0);
  for (const GemmSample& s : samples) {
    EXPECT_NEAR(PredictGemm(model, s) / s.time_s, 1.0, kGemmShapeTolerance + 1e-3) << s.m << " x " << s.k;
  }
  // Between knots the ratio is interpolated in log m; beyond them it holds the end value.
  const OperatorModel equation(WithGemm(g), H100(), 0);
  EXPECT_NEAR(model.Gemm(GemmKind::kMlpDown, 580, 8192, 28672) / equation.Gemm(GemmKind::kOther, 580, 8192, 28672), 1.3,
              0.01);
  EXPECT_NEAR(model.Gemm(GemmKind::kMlpDown, 65536, 8192, 28672) / equation.Gemm(GemmKind::kOther, 65536, 8192, 28672),
              1.0, 0.01);
  EXPECT_NEAR(model.Gemm(GemmKind::kAttnOut, 1, 8192, 1024) / equation.Gemm(GemmKind::kOther, 1, 8192, 1024), 0.9, 1e-3);
  // An unmeasured shape gets the equation with its projection factor; a fractional shape never matches.
  EXPECT_DOUBLE_EQ(model.Gemm(GemmKind::kQkv, 512, 10240, 8192), equation.Gemm(GemmKind::kQkv, 512, 10240, 8192));
  EXPECT_FALSE(GemmShapeFactor(p.gemm_shapes, 512, 8192.5, 1024).has_value());
  // No rows, no kernel (not a NaN from the fill terms).
  EXPECT_EQ(model.Gemm(GemmKind::kQkv, 0, 10240, 8192), 0.0);
  EXPECT_EQ(equation.Gemm(GemmKind::kQkv, 0, 10240, 8192), 0.0);
  // A power cap still acts through the equation.
  const OperatorModel capped(p, H100(), 0, /*clock_scale=*/0.5);
  EXPECT_GT(capped.Gemm(GemmKind::kMlpDown, 2048, 8192, 28672), 1.8 * model.Gemm(GemmKind::kMlpDown, 2048, 8192, 28672));
}

TEST(GemmShapes, FewSizesAreNotKeptAndRatiosStayReadable) {
  const OperatorModel model(WithGemm(GemmParams{}), H100(), 0);
  std::vector<GemmSample> samples;
  auto add = [&](int64_t m, int64_t n, int64_t k, double ratio) {
    GemmSample s;
    s.m = m, s.n = n, s.k = k;
    s.time_s = ratio * model.Gemm(GemmKind::kOther, m, n, k);
    samples.push_back(s);
  };
  for (int64_t m : {1, 2, 4}) add(m, 1280, 8192, m == 1 ? 30.0 : 1.0);  // a wild outlier at one size
  add(4096, 4096, 4096, 1.2);  // a square sweep's single size
  add(8, 4096, 4096, 1.2);     // and one more: still too few
  const std::vector<GemmShapeCorrection> shapes = BuildGemmShapeCorrections(samples, H100(), GemmParams{});
  ASSERT_EQ(shapes.size(), 1u);
  EXPECT_EQ(shapes[0].n, 1280);
  EXPECT_EQ(shapes[0].factor.front(), kMaxGemmShapeFactor);  // clamped to what a profile may hold
  GpuProfile p;
  p.gpu = "H100-SXM-80GB";
  p.created = "x";
  p.gemm_shapes = shapes;
  const std::string path = testing::TempDir() + "/clamped.yaml";
  ASSERT_TRUE(WriteGpuProfile(p, path).ok());
  auto q = LoadGpuProfile(path);
  EXPECT_TRUE(q.ok()) << q.status();
}

TEST(GemmShapes, RoundTripThroughTheProfileAndAreNotBorrowed) {
  GpuProfile p;
  p.gpu = "H100-SXM-80GB";
  p.status = "calibrated";
  p.created = "2026-11-28";
  p.gemm_shapes = BuildGemmShapeCorrections(SteppedSamples(GemmParams{}), H100(), GemmParams{});
  const std::string dir = testing::TempDir() + "/shapes";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteGpuProfile(p, dir + "/H100-SXM-80GB.yaml").ok());
  auto q = LoadGpuProfile(dir + "/H100-SXM-80GB.yaml");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->gemm_shapes.size(), p.gemm_shapes.size());
  for (size_t i = 0; i < p.gemm_shapes.size(); ++i) {
    EXPECT_EQ(q->gemm_shapes[i].n, p.gemm_shapes[i].n);
    EXPECT_EQ(q->gemm_shapes[i].k, p.gemm_shapes[i].k);
    EXPECT_EQ(q->gemm_shapes[i].m, p.gemm_shapes[i].m);
    EXPECT_EQ(q->gemm_shapes[i].factor, p.gemm_shapes[i].factor);  // 4 significant digits both ways
  }
  // Reports say the kernel model holds measurements.
  const ReplicaHardware hw{RealCatalog().FindLlm("Llama-2-70B"), &H100(), RealCatalog().FindNode("DGX-H100"), 8};
  EXPECT_NE(CalibratedPerfModel(*q, hw).Label().find("; 2 measured GEMM shapes"), std::string::npos)
      << CalibratedPerfModel(*q, hw).Label();
  // Another GPU's kernel choices are not borrowed: a derived profile has the equations only.
  auto h200 = ProfileForGpu(*RealCatalog().FindGpu("H200-SXM-141GB"), RealCatalog(), dir);
  ASSERT_TRUE(h200.ok()) << h200.status();
  EXPECT_EQ(h200->derived_from, "H100-SXM-80GB");
  EXPECT_TRUE(h200->gemm_shapes.empty());
}

// Replaces `from` by `to` in the written profile and loads it.
absl::StatusOr<GpuProfile> LoadEdited(const std::string& from, const std::string& to) {
  GpuProfile p;
  p.gpu = "A40";
  p.created = "x";
  p.gemm_shapes = {GemmShapeCorrection{4096, 4096, {1, 64, 512}, {1.1, 0.9, 1.0}},
                   GemmShapeCorrection{8192, 4096, {1, 2}, {1.0, 1.0}}};
  const std::string dir = testing::TempDir();
  EXPECT_TRUE(WriteGpuProfile(p, dir + "/edit.yaml").ok());
  std::ifstream in(dir + "/edit.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  testing::WriteFile(dir, "edited.yaml", text);
  return LoadGpuProfile(dir + "/edited.yaml");
}

TEST(GemmShapes, MalformedEntriesNameTheLineAndWhatIsExpected) {
  struct Case {
    std::string from, to, message;
  } cases[] = {
      {"m: [1, 64, 512]", "m: [1, 512, 64]", "gemm_shapes[0].m is not increasing at position 3 (512 then 64)"},
      {"factor: [1.1, 0.9, 1]", "factor: [1.1, 0.9]", "gemm_shapes[0] has 3 m values and 2 factors"},
      {"factor: [1.1, 0.9, 1]", "factor: [1.1, 0.9, 99]", "gemm_shapes[0].factor is 99, out of range"},
      {"n: 8192, k: 4096", "n: 4096, k: 4096", "gemm_shapes[1] repeats the shape n 4096, k 4096"},
      {"n: 8192, k: 4096", "n: 8192, kk: 4096", "gemm_shapes[1] has no 'k'"},
      {"model_revision: 5", "model_revision: 6", "newer gpufleet"},
  };
  for (const Case& c : cases) {
    auto q = LoadEdited(c.from, c.to);
    ASSERT_FALSE(q.ok()) << c.to;
    EXPECT_NE(q.status().message().find("edited.yaml:"), std::string::npos) << q.status();
    EXPECT_NE(q.status().message().find(c.message), std::string::npos) << q.status();
  }
  // Revisions 3 (before shape corrections) and 4 (before the busy-time onset) are still read.
  for (const char* old_revision : {"model_revision: 3", "model_revision: 4"}) {
    auto old = LoadEdited("model_revision: 5", old_revision);
    EXPECT_TRUE(old.ok()) << old.status();
  }
}

TEST(GemmShapes, CalibrateKeepsThemForMicrobenchAndOnRequest) {
  const GpuSpec& gpu = *RealCatalog().FindGpu("A100-SXM-80GB");
  auto models = microbench::SelectModels(RealCatalog(), {"Llama-2-7B"});
  ASSERT_TRUE(models.ok()) << models.status();
  microbench::PlanOptions options = microbench::PlanOptions::Defaults(/*quick=*/true);
  options.ops = {microbench::OpGroup::kGemm};
  auto plan = microbench::BuildPlan(*models, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::string dir = testing::TempDir();
  const std::string csv = dir + "/shapes-synthetic.csv";
  ASSERT_TRUE(microbench::WriteSyntheticCsv(csv, *plan, gpu).ok());
  const std::string base = "calibrate --source microbench " + csv + " --gpu A100-SXM-80GB -o ";
  auto on = testing::RunGpufleet(base + dir + "/on.yaml", true);
  ASSERT_EQ(on.exit_code, 0) << on.output;
  auto off = testing::RunGpufleet(base + dir + "/off.yaml --no-shape-corrections", true);
  ASSERT_EQ(off.exit_code, 0) << off.output;
  auto with = LoadGpuProfile(dir + "/on.yaml"), without = LoadGpuProfile(dir + "/off.yaml");
  ASSERT_TRUE(with.ok() && without.ok());
  EXPECT_FALSE(with->gemm_shapes.empty());
  EXPECT_EQ(with->fit.count("gemm_shapes"), 1u) << on.output;
  EXPECT_TRUE(without->gemm_shapes.empty());
  EXPECT_EQ(without->fit.count("gemm_shapes"), 0u);
  EXPECT_NE(without->command.find("--no-shape-corrections"), std::string::npos);
  // End-to-end data has no GEMM shapes to keep.
  auto bad = testing::RunGpufleet("calibrate --source splitwise x.csv --hardware h100-80gb --gpu H100-SXM-80GB "
                                  "--shape-corrections -o " + dir + "/x.yaml", true);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--shape-corrections and --no-shape-corrections apply to kernel measurements"),
            std::string::npos)
      << bad.output;
}

// The suite measures the very GEMMs the engine computes: with every planned shape at twice the equation,
// a Llama-2-70B and a Mixtral iteration's GEMMs and LM head take exactly twice as long, at each TP.
TEST(GemmShapes, TheSuitesShapesAreTheEnginesShapes) {
  auto models = microbench::SelectModels(RealCatalog(), {"Llama-2-70B", "Mixtral-8x7B"});
  ASSERT_TRUE(models.ok()) << models.status();
  microbench::PlanOptions options = microbench::PlanOptions::Defaults(/*quick=*/true);
  options.ops = {microbench::OpGroup::kGemm};
  auto plan = microbench::BuildPlan(*models, options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  GpuProfile doubled;
  std::map<std::pair<int64_t, int64_t>, GemmShapeCorrection> shapes;
  for (const auto& point : plan->points) shapes[{point.n, point.k}] = {point.n, point.k, {1}, {2.0}};
  for (auto& [key, c] : shapes) doubled.gemm_shapes.push_back(c);
  const std::vector<SeqWork> batch = {{512, 0}, {1, 300}, {1, 900}};
  for (const char* name : {"Llama-2-70B", "Mixtral-8x7B"}) {
    for (int tp : {1, 2, 4, 8}) {
      const ReplicaHardware hw{RealCatalog().FindLlm(name), &H100(), RealCatalog().FindNode("DGX-H100"), tp};
      const IterationBreakdown plain = CalibratedPerfModel(GpuProfile{}, hw).Breakdown(batch);
      const IterationBreakdown twice = CalibratedPerfModel(doubled, hw).Breakdown(batch);
      EXPECT_NEAR(twice.gemm_s / plain.gemm_s, 2.0, 1e-9) << name << " tp" << tp;
      EXPECT_NEAR(twice.lm_head_s / plain.lm_head_s, 2.0, 1e-9) << name << " tp" << tp;
    }
  }
}

// On real kernel times: a measured shape predicted at token counts it was not built from (every other one
// held out) is far closer than the equation, whose error is the library's kernel switches.
TEST(GemmShapesHeldOut, H100ShapesBetweenTheirMeasurements) {
  if (!testing::HasSharedData()) GTEST_SKIP() << "../shared/data not present";
  auto set = ReadVidurComputeDir(testing::SharedData("vidur-profiles/compute/h100"));
  ASSERT_TRUE(set.ok()) << set.status();
  const FitError shapes = SummarizeErrors(ShapeInterpolationApe(set->gemms, H100(), GemmParams{}), "");
  const GemmParams g = FitGemm(set->gemms, H100(), GemmParams{});
  std::vector<double> equation;
  for (const auto& s : set->gemms) equation.push_back(std::fabs(PredictGemm(g, H100(), s) / s.time_s - 1));
  const FitError eq = SummarizeErrors(equation, "");
  EXPECT_LT(shapes.median_ape, 0.025);  // measured 1.3%
  EXPECT_LT(shapes.median_ape, 0.5 * eq.median_ape) << eq.median_ape;  // equation in-sample: 5.6%
  EXPECT_LT(shapes.mape, eq.mape);
}

}  // namespace
}  // namespace gpufleet
