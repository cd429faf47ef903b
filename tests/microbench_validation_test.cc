// `gpufleet validate --source microbench`: a profile against the project's own suite's measurements.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"

#include "models/calibration/gpu_profile.h"
#include "tests/test_util.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/synthetic.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

// A synthetic (roofline) suite output for `gpu`: Llama-2-7B's GEMMs and attention, the memory sweep.
std::string SyntheticCsv(const std::string& dir, const std::string& gpu, const std::string& name) {
  auto models = microbench::SelectModels(RealCatalog(), {"Llama-2-7B"});
  EXPECT_TRUE(models.ok()) << models.status();
  microbench::PlanOptions options = microbench::PlanOptions::Defaults(/*quick=*/true);
  options.ops = {microbench::OpGroup::kGemm, microbench::OpGroup::kAttention, microbench::OpGroup::kMemory};
  auto plan = microbench::BuildPlan(*models, options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  const std::string path = dir + "/" + name;
  EXPECT_TRUE(microbench::WriteSyntheticCsv(path, *plan, *RealCatalog().FindGpu(gpu)).ok());
  return path;
}

TEST(MicrobenchValidation, ReportsEveryOpAndCrossValidatesTheGemmsOfItsOwnProfile) {
  const std::string dir = testing::TempDir();
  const std::string csv = SyntheticCsv(dir, "A100-SXM-80GB", "microbench-synthetic-a100.csv");
  const std::string profile = dir + "/A100-mb.yaml";
  auto cal = testing::RunGpufleet("calibrate --source microbench " + csv + " --gpu A100-SXM-80GB -o " + profile, true);
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  auto r = testing::RunGpufleet("validate --source microbench " + csv + " --gpu A100-SXM-80GB --json --profile " + profile);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_TRUE(j["profile_fitted_on_these_measurements"].get<bool>());
  std::map<std::string, nlohmann::json> groups;
  for (const auto& g : j["groups"]) groups[g["name"]] = g;
  for (const char* op : {"gemm", "attn_prefill", "attn_decode", "hbm_copy", "hbm_triad"}) {
    ASSERT_TRUE(groups.contains(op)) << op << "\n" << r.output;
    EXPECT_GT(groups[op]["profile"]["n"].get<int>(), 0) << op;
  }
  // Only the GEMMs are refitted; the headline is their cross-validated error, and the roofline rows the
  // GEMM equations contain are recovered.
  EXPECT_GT(groups["gemm"]["cross_validated"]["n"].get<int>(), 0);
  EXPECT_EQ(groups["attn_prefill"]["cross_validated"]["n"].get<int>(), 0);
  EXPECT_NE(j["overall"]["method"].get<std::string>().find("by weight shape"), std::string::npos) << r.output;
  EXPECT_LT(j["overall"]["median_ape"].get<double>(), 0.05) << r.output;
}

TEST(MicrobenchValidation, PointsNameTheirLinesInFilesWithBlankLinesAndCrlf) {
  const std::string dir = testing::TempDir();
  const std::string csv = SyntheticCsv(dir, "A100-SXM-80GB", "microbench-synthetic-a100.csv");
  std::ifstream in(csv);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  // Lines the reader skips: blank, whitespace-only, an indented comment; all with CRLF endings.
  std::vector<std::string> edited = {"   ", "", "  # a comment"};
  for (size_t i = 0; i < lines.size(); ++i) {
    edited.push_back(lines[i]);
    if (i % 50 == 7) edited.push_back("\t");
  }
  std::string text;
  for (const auto& l : edited) text += l + "\r\n";
  const std::string messy = testing::WriteFile(dir, "microbench-synthetic-messy.csv", text);
  auto r = testing::RunGpufleet("validate --source microbench " + messy + " --gpu A100-SXM-80GB --points " + dir +
                                "/points.csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream points(dir + "/points.csv");
  std::string line;
  std::getline(points, line);  // header
  int checked = 0;
  while (std::getline(points, line)) {
    // file,row,group,config,...: the row's line holds the point's own op and shape.
    const std::vector<std::string> f = absl::StrSplit(line, ',');
    ASSERT_GE(f.size(), 4u);
    const size_t row = std::stoul(f[1]);
    ASSERT_GE(row, 1u);
    ASSERT_LE(row, edited.size());
    const std::vector<std::string> cols = absl::StrSplit(edited[row - 1], ',');
    ASSERT_GE(cols.size(), 9u) << row;
    EXPECT_EQ(cols[4], f[2]) << row << ": " << edited[row - 1];
    if (f[2] == "gemm") {
      EXPECT_EQ(f[3], "m=" + cols[6] + " n=" + cols[7] + " k=" + cols[8]) << row;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(MicrobenchValidation, ADerivedProfileIsCheckedAgainstItsGpusMeasurements) {
  // The H200 has no profile of its own: validate says so beside the errors of the one it derives.
  const std::string csv = SyntheticCsv(testing::TempDir(), "H200-SXM-141GB", "microbench-synthetic-h200.csv");
  auto r = testing::RunGpufleet("validate --source microbench " + csv + " --gpu H200-SXM-141GB");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not fitted on these measurements"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("UNCALIBRATED (efficiencies of H100-SXM-80GB)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("attn_decode"), std::string::npos) << r.output;
  // Which GPU the file measured is not guessed.
  auto bad = testing::RunGpufleet("validate --source microbench " + csv, true);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--source microbench needs --gpu"), std::string::npos) << bad.output;
}

// The suite's own H200 measurements (tools/microbench/results/H200-2026-11-30, committed): attention is
// fitted to cuDNN's fused kernels unless the reference kernels are asked for, HBM rows served from L2 are
// left out, and both choices are said in the profile and the validation.
TEST(MicrobenchValidation, MeasuredH200AttentionComesFromTheLibraryKernelUnlessAsked) {
  const std::string csv = std::string(GPUFLEET_SOURCE_DIR) + "/tools/microbench/results/H200-2026-11-30/microbench.csv";
  const std::string dir = testing::TempDir();
  auto library = testing::RunGpufleet("calibrate --source microbench " + csv + " --gpu H200-SXM-141GB -o " + dir +
                                      "/lib.yaml", true);
  ASSERT_EQ(library.exit_code, 0) << library.output;
  EXPECT_NE(library.output.find("memory-bound kernels kept from the starting profile"), std::string::npos)
      << library.output;
  auto reference = testing::RunGpufleet("calibrate --source microbench " + csv + " --gpu H200-SXM-141GB -o " + dir +
                                        "/ref.yaml --attention-from-reference", true);
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  auto lib = LoadGpuProfile(dir + "/lib.yaml");
  auto ref = LoadGpuProfile(dir + "/ref.yaml");
  ASSERT_TRUE(lib.ok() && ref.ok());
  // cuDNN's flash attention runs prefill an order of magnitude faster than the CUDA-core reference.
  EXPECT_GT(lib->attention.prefill_efficiency, 5 * ref->attention.prefill_efficiency)
      << lib->attention.prefill_efficiency << " vs " << ref->attention.prefill_efficiency;
  EXPECT_NE(lib->sources.front().find("reference-kernel attention (opt in with --attention-from-reference)"),
            std::string::npos) << lib->sources.front();
  EXPECT_NE(lib->sources.front().find("HBM rows served from L2"), std::string::npos) << lib->sources.front();
  EXPECT_NE(ref->command.find("--attention-from-reference"), std::string::npos) << ref->command;

  auto v = testing::RunGpufleet("validate --source microbench " + csv + " --gpu H200-SXM-141GB --json");
  ASSERT_EQ(v.exit_code, 0) << v.output;
  const auto j = nlohmann::json::parse(v.output);
  std::map<std::string, int> n;
  for (const auto& g : j["groups"]) n[g["name"]] = g["profile"]["n"].get<int>();
  EXPECT_EQ(n["attn_prefill"] + n["attn_decode"], 368);  // the cudnn_sdpa rows at the top power limit
  EXPECT_GT(n["gemm"], 1000);
  bool noted = false;
  for (const auto& note : j["notes"]) noted |= note.get<std::string>().find("at lower power limits") != std::string::npos;
  EXPECT_TRUE(noted) << v.output;
}

}  // namespace
}  // namespace gpufleet
