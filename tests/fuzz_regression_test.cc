// Replays inputs through the fuzz targets (tools/fuzz/targets/), so that every build runs them, the gcc
// sanitizer build (.ci/sanitize) included, without clang or libFuzzer: the inputs that once crashed a
// harness (tools/fuzz/regressions/<harness>/, one file each) and the shipped scenarios and profiles
// (whose targets also check that a profile writes and reads back), and the shipped plan files and Mélange
// inputs. A target aborts on a broken contract, which fails the test with the target's message on stderr.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/fuzz/targets/calibration_targets.h"
#include "tools/fuzz/targets/plan_targets.h"
#include "tools/fuzz/targets/scenario_target.h"
#include "tools/fuzz/targets/trace_targets.h"

namespace gpufleet::fuzz {
namespace {

namespace fs = std::filesystem;

struct Harness {
  const char* name;  // the harness, and its folder under tools/fuzz/regressions/
  int (*run)(const uint8_t*, size_t);
  const char* shipped_glob_dir;  // a repository folder whose files ending in shipped_ext also go through it, or ""
  const char* shipped_ext;       // ".yaml", ".json"; "" without a folder
};

const Harness kHarnesses[] = {
    {"scenario_fuzzer", FuzzScenario, "scenarios", ".yaml"},
    {"azure_csv_fuzzer", FuzzAzureCsv, "", ""},
    {"native_csv_fuzzer", FuzzNativeCsv, "", ""},
    {"workload_fuzzer", FuzzWorkload, "", ""},
    {"vidur_compute_fuzzer", FuzzVidurCompute, "", ""},
    {"vidur_network_fuzzer", FuzzVidurNetwork, "", ""},
    {"splitwise_fuzzer", FuzzSplitwise, "", ""},
    {"microbench_csv_fuzzer", FuzzMicrobenchCsv, "", ""},
    {"gpu_profile_fuzzer", FuzzGpuProfile, "models/calibration", ".yaml"},
    {"plan_spec_fuzzer", FuzzPlanSpec, "scenarios/plans", ".yaml"},
    {"melange_json_fuzzer", FuzzMelangeJson, "scenarios/plans", ".json"},
};

// Names the parameter in test listings (ctest shows it) instead of its bytes.
void PrintTo(const Harness& h, std::ostream* os) { *os << h.name; }

// Every file under `dir` but notes (*.md), or only those ending in `ext` when it is given.
std::vector<fs::path> FilesUnder(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() == ".md") continue;
    if (!ext.empty() && e.path().extension() != ext) continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FuzzRegression : public ::testing::TestWithParam<Harness> {};

TEST_P(FuzzRegression, ReplaysSavedAndShippedInputs) {
  const Harness& h = GetParam();
  const fs::path source(GPUFLEET_SOURCE_DIR);
  std::vector<fs::path> inputs = FilesUnder(source / "tools/fuzz/regressions" / h.name, "");
  if (*h.shipped_glob_dir != '\0') {
    const std::vector<fs::path> shipped = FilesUnder(source / h.shipped_glob_dir, h.shipped_ext);
    EXPECT_FALSE(shipped.empty()) << "no *" << h.shipped_ext << " under " << h.shipped_glob_dir;
    inputs.insert(inputs.end(), shipped.begin(), shipped.end());
  }
  for (const fs::path& p : inputs) {
    SCOPED_TRACE(p.string());
    const std::string data = ReadFile(p);
    std::fprintf(stderr, "%s: %s (%zu bytes)\n", h.name, p.string().c_str(), data.size());
    EXPECT_EQ(h.run(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Harnesses, FuzzRegression, ::testing::ValuesIn(kHarnesses),
                         [](const ::testing::TestParamInfo<Harness>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gpufleet::fuzz
