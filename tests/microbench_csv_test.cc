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
    r.cold_copies = 7;
    r.working_set_bytes = 20971520 + 8388608 + 1310720;
    r.l2_bytes = 52428800;
    r.window_ms = 301.5;
    r.energy_j = 184.6;
    r.clock_events = "sw_power_cap|hw_slowdown";
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
        while (f.size() < 32) f.push_back("");
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
            "mean_power_w,sm_clock_mhz,kernel,timing,cold_copies,working_set_bytes,l2_bytes,window_ms,energy_j,"
            "clock_events");
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
  extra.replace(extra.find("clock_events"), 12, "clock_events,notes");
  ExpectError(extra, 3, "header has 33 columns");

  ExpectError(ValidText() + "1,synthetic-test-gpu,x,y,gemm\n", 5, "row has 5 fields");
  ExpectError(WithField(0, "3"), 4, "schema_version is 3");
  ExpectError(WithField(24, "cudnn_sdpa"), 4, "kernel is 'cudnn_sdpa' for op gemm");
  ExpectError(WithField(24, "flash"), 4, "kernel is 'flash'");
  ExpectError(WithField(25, "eager"), 4, "timing is 'eager'");
  ExpectError(WithField(26, "0"), 4, "cold_copies is 0");
  ExpectError(WithField(29, "-1"), 4, "window_ms is -1");
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
  std::string row = two.substr(two.find("\n2,") + 1);
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
  collective.kernel = Kernel::kNccl;
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

// Files of schema version 1 (before the kernel, timing, cache and energy columns) still read: attention
// rows were the reference kernels and every call was launched from the host.
TEST_F(MicrobenchCsv, VersionOneFilesAreUpgradedOnRead) {
  const std::string v1 =
      "# an old file\n"
      "schema_version,gpu_name,driver_version,cuda_version,op,dtype,m,n,k,batch,q_tokens,kv_tokens,heads,kv_heads,"
      "head_dim,bytes,ranks,power_limit_w,time_us_median,time_us_p10,time_us_p90,samples,mean_power_w,sm_clock_mhz\n"
      "1,gpu,d,13.0,gemm,bf16,16,4096,4096,0,0,0,0,0,0,0,1,700,10,9,11,20,650,1980\n"
      "1,gpu,d,13.0,attn_decode,bf16,0,0,0,8,1,1024,32,8,128,0,1,700,30,29,31,20,,\n";
  auto rows = ParseMicrobenchCsv(v1, "old.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].schema_version, kMicrobenchSchemaVersion);
  EXPECT_EQ((*rows)[0].kernel, Kernel::kCublasLt);
  EXPECT_EQ((*rows)[0].timing, TimingMode::kLaunch);
  EXPECT_EQ((*rows)[1].kernel, Kernel::kReference);
  EXPECT_EQ((*rows)[1].cold_copies, 1);
  EXPECT_EQ((*rows)[1].l2_bytes, 0);
  // A version 2 value under a version 1 header is a mismatch, named as such.
  std::string wrong = v1;
  wrong.replace(wrong.find("\n1,gpu"), 3, "\n2,");
  auto bad = ParseMicrobenchCsv(wrong, "old.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("the header is schema version 1's"), std::string::npos) << bad.status();
  // And upgraded rows write back as version 2 and read back equal.
  auto text = FormatMicrobenchCsv(*rows, {});
  ASSERT_TRUE(text.ok()) << text.status();
  auto again = ParseMicrobenchCsv(*text, "new.csv");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *rows);
}

}  // namespace
}  // namespace gpufleet::microbench
