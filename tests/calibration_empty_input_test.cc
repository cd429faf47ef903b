// `gpufleet calibrate` and `validate` on degenerate input: a measurement file with a header and no rows,
// or fewer points than a fit has parameters, is exit 2 naming the file and what was short, with nothing
// written; every output path is checked before any work; a link as the output is written through.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/test_util.h"
#include "tools/microbench/microbench_csv.h"

namespace gpufleet {
namespace {

namespace fs = std::filesystem;
using testing::RunGpufleet;
using testing::WriteFile;

constexpr const char* kSplitwiseHeader =
    "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,e2e_time,"
    "tensor_parallel\n";
// Two GEMM operators (both projections: the GEMM fit's 12 parameters) and one norm per row.
constexpr const char* kVidurHeader =
    "time_stats.attn_pre_proj.median,time_stats.mlp_up_proj.median,time_stats.input_layernorm.median,n_head,"
    "n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,num_tensor_parallel_workers\n";
constexpr const char* kAllReduceHeader =
    ",time_stats.all_reduce.median,rank,num_workers,size,collective,devices_per_node,max_devices_per_node\n";

// A vidur compute folder <dir>/compute/<gpu>/org/model/mlp.csv with `rows` rows; returns the compute folder.
std::string VidurFolder(const std::string& dir, int rows) {
  const std::string model = dir + "/compute/a40/org/model";
  fs::create_directories(model);
  std::string text = kVidurHeader;
  for (int i = 0; i < rows; ++i) {
    const int tokens = 64 << i;
    text += std::to_string(0.02 * (i + 1)) + "," + std::to_string(0.05 * (i + 1)) + "," + std::to_string(0.01 * (i + 1)) +
            ",32,32,4096,11008,32000,True," + std::to_string(tokens) + ",1\n";
  }
  WriteFile(model, "mlp.csv", text);
  return dir + "/compute/a40";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void ExpectRefused(const testing::CommandResult& r, const std::string& message, const std::string& unwritten) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(message), std::string::npos) << "expected '" << message << "' in: " << r.output;
  if (!unwritten.empty()) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(unwritten))) << unwritten;
  }
}

TEST(CalibrationEmptyInput, HeaderOnlyFilesAreRefusedByEverySource) {
  const std::string dir = testing::TempDir();
  const std::string out = dir + "/out.yaml", points = dir + "/points.csv";

  const std::string sw = WriteFile(dir, "sw.csv", kSplitwiseHeader);
  ExpectRefused(RunGpufleet("calibrate --source splitwise " + sw + " --gpu H100-SXM-80GB --hardware h100-80gb -o " + out, true),
                sw + ": no measurement rows", out);
  ExpectRefused(RunGpufleet("validate --source splitwise " + sw + " --points " + points, true),
                sw + ": no measurement rows", points);

  const std::string compute = VidurFolder(dir + "/v", 0);
  const std::string mlp = compute + "/org/model/mlp.csv";
  ExpectRefused(RunGpufleet("calibrate --source vidur " + compute + " --gpu A40 -o " + out, true),
                mlp + ": no measurement rows", out);
  ExpectRefused(RunGpufleet("validate --source vidur " + compute + " --points " + points, true),
                mlp + ": no measurement rows", points);

  // The collectives of a usable compute folder.
  const std::string good = VidurFolder(dir + "/g", 6);
  const std::string ar = WriteFile(dir, "all_reduce.csv", kAllReduceHeader);
  ExpectRefused(RunGpufleet("calibrate --source vidur " + good + " --network " + ar + " --node DGX-A100 --gpu A40 -o " + out, true),
                ar + ": no measurement rows", out);

  const std::string mb = WriteFile(dir, "mb.csv", "# synthetic\n" + microbench::MicrobenchCsvHeader() + "\n");
  ExpectRefused(RunGpufleet("calibrate --source microbench " + mb + " --gpu A100-SXM-80GB -o " + out, true),
                mb + ": no measurement rows", out);
  ExpectRefused(RunGpufleet("validate --source microbench " + mb + " --gpu A100-SXM-80GB --points " + points, true),
                mb + ": no measurement rows", points);
}

TEST(CalibrationEmptyInput, FewerPointsThanParametersAreRefused) {
  const std::string dir = testing::TempDir();
  const std::string out = dir + "/out.yaml";
  // Three rows: six GEMMs for the GEMM fit's twelve parameters.
  const std::string compute = VidurFolder(dir, 3);
  ExpectRefused(RunGpufleet("calibrate --source vidur " + compute + " --gpu A40 -o " + out, true),
                compute + ": 6 GEMM measurements; expected at least 12 to fit the 12 parameters of the GEMM model", out);
  // Two Splitwise rows: four points (prefill and decode) for ten serving-stack parameters.
  const std::string sw = WriteFile(dir, "sw.csv", std::string(kSplitwiseHeader) +
                                                      "llama2-70b,h100-80gb,512,1,128,0,0,60,29,3000,4\n"
                                                      "llama2-70b,h100-80gb,1024,1,128,0,0,110,29,3000,4\n");
  ExpectRefused(RunGpufleet("calibrate --source splitwise " + sw + " --gpu H100-SXM-80GB --hardware h100-80gb -o " + out, true),
                sw + ": 4 points (prefill and decode of 2 rows of hardware 'h100-80gb' after screening); expected at least 10",
                out);
}

TEST(CalibrationEmptyInput, OutputPathsAreCheckedBeforeAnyWork) {
  const std::string dir = testing::TempDir();
  // The input does not exist: an output error first shows that the output was checked before reading it.
  const std::string missing_input = dir + "/no-such-input.csv";
  for (const std::string& bad : {dir + "/no/such/dir/out.yaml", dir}) {
    auto cal = RunGpufleet("calibrate --source splitwise " + missing_input + " --gpu H100-SXM-80GB --hardware h100-80gb -o " + bad, true);
    ExpectRefused(cal, "-o " + bad + ": ", "");
    auto val = RunGpufleet("validate --source splitwise " + missing_input + " --points " + bad, true);
    ExpectRefused(val, "--points " + bad + ": ", "");
  }
  EXPECT_FALSE(fs::exists(dir + "/no"));
  if (::geteuid() != 0) {  // root may write anywhere
    const std::string locked = dir + "/locked";
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    ExpectRefused(RunGpufleet("validate --source splitwise " + missing_input + " --points " + locked + "/p.csv", true),
                  "--points " + locked + "/p.csv: cannot create files in", locked + "/p.csv");
    fs::permissions(locked, fs::perms::owner_all);
  }
}

TEST(CalibrationEmptyInput, ALinkAsTheOutputIsWrittenThrough) {
  const std::string dir = testing::TempDir();
  const std::string compute = VidurFolder(dir, 6);
  fs::create_directories(dir + "/real");
  WriteFile(dir + "/real", "profile.yaml", "old\n");
  WriteFile(dir + "/real", "points.csv", "old\n");
  fs::create_symlink("real/profile.yaml", dir + "/profile.yaml");
  fs::create_symlink(dir + "/real/points.csv", dir + "/points.csv");

  auto cal = RunGpufleet("calibrate --source vidur " + compute + " --gpu A40 -o " + dir + "/profile.yaml", true);
  ASSERT_EQ(cal.exit_code, 0) << cal.output;
  EXPECT_TRUE(fs::is_symlink(dir + "/profile.yaml"));
  EXPECT_NE(ReadAll(dir + "/real/profile.yaml").find("gpu: A40"), std::string::npos);

  auto val = RunGpufleet("validate --source vidur " + compute + " --gpu A40 --points " + dir + "/points.csv", true);
  ASSERT_EQ(val.exit_code, 0) << val.output;
  EXPECT_TRUE(fs::is_symlink(dir + "/points.csv"));
  EXPECT_EQ(ReadAll(dir + "/real/points.csv").rfind("file,row,group,", 0), 0u);
  // No temporary is left beside the target.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir + "/real")) ++files;
  EXPECT_EQ(files, 2);
}

}  // namespace
}  // namespace gpufleet
