// Tests for the microbenchmark CSV (tools/microbench/microbench_csv.h, docs/microbench-csv.md): a write ->
// read round trip of a synthetic file generated from the project's own roofline estimate (labelled
// synthetic in its name and header, never a measurement), and the reader's "PATH:LINE: what; expected"
// errors on malformed files.
#include "tools/microbench/microbench_csv.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "models/catalog.h"
#include "tools/microbench/plan.h"
#include "tools/microbench/synthetic.h"

namespace gpufleet::microbench {
namespace {

namespace fs = std::filesystem;

class MicrobenchCsv : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gpufleet-microbench-csv-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::string WriteText(const std::string& name, const std::string& text) const {
    const std::string p = Path(name);
    std::ofstream(p) << text;
    return p;
  }

  static MicrobenchRow GemmRow() {
    MicrobenchRow r;
    r.gpu_name = "synthetic-test-gpu";
    r.driver_version = "synthetic";
    r.cuda_version = "synthetic";
    r.op = Op::kGemm;
    r.dtype = Dtype::kBf16;
    r.m = 512;
    r.n = 1280;
    r.k = 8192;
    r.power_limit_w = 700;
    r.time_us_median = 12.345678901234567;
    r.time_us_p10 = 12.0;
    r.time_us_p90 = 13.1;
    r.samples = 37;
    r.mean_power_w = 612.25;
    r.sm_clock_mhz = 1980;
    return r;
  }

  // A valid synthetic file whose line 4 (after two comments and the header) is the gemm row.
  std::string ValidText() const {
    auto text = FormatMicrobenchCsv({GemmRow()}, {"synthetic: test fixture", "second comment"});
    EXPECT_TRUE(text.ok()) << text.status();
    return *text;
  }

  // ValidText with field `column` of the data row replaced.
  std::string WithField(int column, const std::string& value) const {
    std::istringstream in(ValidText());
    std::string line, out;
    int n = 0;
    while (std::getline(in, line)) {
      if (++n == 4) {
        std::vector<std::string> f;
        std::stringstream ls(line);
        std::string x;
        while (std::getline(ls, x, ',')) f.push_back(x);
        while (f.size() < 24) f.push_back("");
        f[column] = value;
        line.clear();
        for (size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + f[i];
      }
      out += line + "\n";
    }
    return out;
  }

  // Parses `text` and expects an error on `line` containing `what` and an "expected" part.
  void ExpectError(const std::string& text, int line, const std::string& what) const {
    const std::string path = WriteText("microbench-synthetic-bad.csv", text);
    auto rows = ReadMicrobenchCsv(path);
    ASSERT_FALSE(rows.ok()) << "accepted:\n" << text;
    const std::string msg(rows.status().message());
    EXPECT_EQ(msg.rfind(path + ":" + std::to_string(line) + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_NE(msg.find("; expected "), std::string::npos) << msg;
  }

  fs::path dir_;
};

TEST_F(MicrobenchCsv, SyntheticRoundTripFromTheRooflineModel) {
  auto catalog = Catalog::LoadFromDir(Catalog::DefaultDir());
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  const GpuSpec* gpu = catalog->FindGpu("H100-SXM-80GB");
  ASSERT_NE(gpu, nullptr);
  auto models = SelectModels(*catalog, {"Llama-3-70B", "Mixtral-8x7B"});
  ASSERT_TRUE(models.ok());
  PlanOptions o = PlanOptions::Defaults(true);
  o.ranks = 8;
  auto plan = BuildPlan(*models, o);
  ASSERT_TRUE(plan.ok()) << plan.status();

  std::vector<MicrobenchRow> rows = SyntheticRows(*plan, *gpu);
  ASSERT_EQ(rows.size(), plan->points.size());
  std::set<Op> ops;
  for (const MicrobenchRow& r : rows) ops.insert(r.op);
  EXPECT_EQ(ops.size(), AllOps().size());  // every op of the schema appears
  // Values that need every digit, and optional fields both present and empty.
  rows.front().time_us_median = 0.1 + 0.2;
  rows.front().time_us_p10 = 0.1;
  rows.front().time_us_p90 = 1.0 / 3.0;
  rows.front().mean_power_w = 123.456789012345;
  rows.front().sm_clock_mhz = 1755;

  const std::string path = Path("microbench-synthetic-roofline-H100-SXM-80GB.csv");
  ASSERT_TRUE(WriteMicrobenchCsv(path, rows, SyntheticComments(*gpu)).ok());
  auto back = ReadMicrobenchCsv(path);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ((*back)[i], rows[i]) << "row " << i;

  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("# synthetic", 0), 0u) << first;
  EXPECT_EQ(rows[0].gpu_name, "synthetic-roofline-H100-SXM-80GB");

  // WriteSyntheticCsv writes the same and insists on the label in the file name.
  ASSERT_TRUE(WriteSyntheticCsv(Path("microbench-synthetic.csv"), *plan, *gpu).ok());
  auto again = ReadMicrobenchCsv(Path("microbench-synthetic.csv"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, SyntheticRows(*plan, *gpu));
  absl::Status unlabelled = WriteSyntheticCsv(Path("microbench-h100.csv"), *plan, *gpu);
  EXPECT_FALSE(unlabelled.ok());
  EXPECT_NE(unlabelled.message().find("'synthetic' in its file name"), std::string::npos);
  EXPECT_FALSE(fs::exists(Path("microbench-h100.csv")));
}

TEST_F(MicrobenchCsv, HeaderIsTheDocumentedSchema) {
  EXPECT_EQ(MicrobenchCsvHeader(),
            "schema_version,gpu_name,driver_version,cuda_version,op,dtype,m,n,k,batch,q_tokens,kv_tokens,heads,"
            "kv_heads,head_dim,bytes,ranks,power_limit_w,time_us_median,time_us_p10,time_us_p90,samples,"
            "mean_power_w,sm_clock_mhz");
  // The schema document lists the same columns in the same order.
  std::ifstream doc(std::string(GPUFLEET_SOURCE_DIR) + "/docs/microbench-csv.md");
  ASSERT_TRUE(doc.good());
  std::string line;
  std::vector<std::string> documented;
  while (std::getline(doc, line)) {
    if (line.rfind("| `", 0) == 0) documented.push_back(line.substr(3, line.find('`', 3) - 3));
  }
  EXPECT_EQ(documented, MicrobenchCsvColumns());
}

TEST_F(MicrobenchCsv, CommentsBlankLinesAndCrlfAreAccepted) {
  std::string text = ValidText();
  std::string crlf;
  for (char c : text) {
    if (c == '\n') crlf += "\r";
    crlf += c;
  }
  crlf += "\r\n# trailing comment\r\n\r\n";
  auto rows = ReadMicrobenchCsv(WriteText("microbench-synthetic-crlf.csv", crlf));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0], GemmRow());
}

TEST_F(MicrobenchCsv, MalformedFilesNameFileLineAndExpectation) {
  ExpectError("", 1, "no header line");
  ExpectError("# only a comment\n", 1, "no header line");
  ExpectError("schema_version,gpu_name\n", 1, "header column 3");
  std::string renamed = ValidText();
  renamed.replace(renamed.find("time_us_p10"), 11, "time_us_p05");
  ExpectError(renamed, 3, "header column 20 is 'time_us_p05'");
  std::string extra = ValidText();
  extra.replace(extra.find("sm_clock_mhz"), 12, "sm_clock_mhz,notes");
  ExpectError(extra, 3, "header has 25 columns");

  ExpectError(ValidText() + "1,synthetic-test-gpu,x,y,gemm\n", 5, "row has 5 fields");
  ExpectError(WithField(0, "2"), 4, "schema_version is 2");
  ExpectError(WithField(4, "gemv"), 4, "op is 'gemv'");
  ExpectError(WithField(5, "int8"), 4, "dtype is 'int8'");
  ExpectError(WithField(5, ""), 4, "dtype is empty for op gemm");
  ExpectError(WithField(6, "-5"), 4, "m is '-5'");
  ExpectError(WithField(6, "0"), 4, "m is 0 for op gemm");
  ExpectError(WithField(8, "1.5"), 4, "k is '1.5'");
  ExpectError(WithField(16, "2"), 4, "ranks is 2 for op gemm");
  ExpectError(WithField(18, "fast"), 4, "time_us_median is 'fast'");
  ExpectError(WithField(18, "0"), 4, "time_us_median is 0");
  ExpectError(WithField(19, "12.5"), 4, "are out of order");
  ExpectError(WithField(21, "0"), 4, "samples is 0");
  ExpectError(WithField(22, "nan"), 4, "mean_power_w is 'nan'");

  // Op-specific shape rules.
  std::string attn = WithField(4, "attn_decode");
  ExpectError(attn, 4, "batch is 0 for op attn_decode");
  std::string coll = WithField(4, "all_reduce");
  ExpectError(coll, 4, "bytes is 0 for op all_reduce");
  std::string mem = WithField(4, "hbm_copy");
  ExpectError(mem, 4, "dtype is 'bf16' for op hbm_copy");

  // One GPU per file.
  std::string two = ValidText();
  std::string row = two.substr(two.find("\n1,") + 1);
  std::string other = row;
  other.replace(other.find("synthetic-test-gpu"), 18, "synthetic-other-gpu");
  ExpectError(two + other, 5, "gpu_name is 'synthetic-other-gpu' but line 4 has 'synthetic-test-gpu'");
}

TEST_F(MicrobenchCsv, WriterRefusesInvalidRows) {
  MicrobenchRow bad = GemmRow();
  bad.time_us_p10 = 20;  // above the median
  absl::Status s = WriteMicrobenchCsv(Path("microbench-synthetic-w.csv"), {GemmRow(), bad}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("row 2 (gemm)"), std::string::npos) << s;
  EXPECT_FALSE(fs::exists(Path("microbench-synthetic-w.csv")));
  MicrobenchRow comma = GemmRow();
  comma.gpu_name = "GPU, the fast one";
  EXPECT_FALSE(FormatMicrobenchCsv({comma}, {}).ok());
  MicrobenchRow other = GemmRow();
  other.gpu_name = "synthetic-other";
  EXPECT_FALSE(FormatMicrobenchCsv({GemmRow(), other}, {}).ok());
  MicrobenchRow collective = GemmRow();
  collective.op = Op::kAllGather;
  collective.m = collective.n = collective.k = 0;
  collective.bytes = 4096;
  collective.ranks = 1;
  s = ValidateMicrobenchRow(collective);
  EXPECT_NE(s.message().find("ranks is 1 for op all_gather; expected at least 2 GPUs"), std::string::npos) << s;
  collective.ranks = 8;
  EXPECT_TRUE(ValidateMicrobenchRow(collective).ok());
  // An empty file body (header only) is valid and has no rows.
  auto text = FormatMicrobenchCsv({}, {"synthetic"});
  ASSERT_TRUE(text.ok());
  auto rows = ParseMicrobenchCsv(*text, "mem");
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  auto missing = ReadMicrobenchCsv(Path("does-not-exist.csv"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gpufleet::microbench
