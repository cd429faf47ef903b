// Tests of the trace readers, synthetic generators and reshaping decorators behind MakeRequestStream.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "traces/azure_csv_stream.h"
#include "traces/civil_time.h"
#include "traces/csv_line_reader.h"
#include "traces/native_csv_stream.h"
#include "traces/random.h"
#include "traces/trace_extent.h"
#include "traces/workload_stream.h"

namespace gpufleet {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A file under the test temp dir, named after the running test so that tests run in parallel
// processes (ctest -j) never share one.
std::string WriteTemp(const std::string& name, const std::string& contents) {
  const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
  std::string path = absl::StrCat(testing::TempDir(), "/gpufleet_", test->test_suite_name(), "_", test->name(),
                                  "_", name);
  std::replace(path.begin() + testing::TempDir().size() + 1, path.end(), '/', '_');
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

absl::StatusOr<std::vector<TraceRequest>> Drain(RequestStream& stream) {
  std::vector<TraceRequest> out;
  TraceRequest r;
  for (;;) {
    absl::StatusOr<bool> more = stream.Next(&r);
    if (!more.ok()) return more.status();
    if (!*more) return out;
    out.push_back(r);
  }
}

WorkloadSpec TraceSpec(const std::string& path, const std::string& format) {
  WorkloadSpec spec;
  spec.source = WorkloadSpec::Source::kTrace;
  spec.trace_path = path;
  spec.trace_format = format;
  return spec;
}

std::vector<TraceRequest> MustDrain(const WorkloadSpec& spec, uint64_t seed = 1, double horizon = kInf) {
  absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(spec, seed, horizon);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  absl::StatusOr<std::vector<TraceRequest>> rows = Drain(**s);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<TraceRequest>{};
}

// The error Next() gives for `spec` (after the stream opened fine).
absl::Status StreamError(const WorkloadSpec& spec) {
  absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(spec, 1, kInf);
  if (!s.ok()) return absl::InternalError(absl::StrCat("open failed: ", s.status().ToString()));
  return Drain(**s).status();
}

double Cv(const std::vector<double>& x) {
  double mean = 0, m2 = 0;
  for (double v : x) mean += v;
  mean /= x.size();
  for (double v : x) m2 += (v - mean) * (v - mean);
  return std::sqrt(m2 / (x.size() - 1)) / mean;
}

std::vector<double> Gaps(const std::vector<TraceRequest>& rows) {
  std::vector<double> gaps;
  for (size_t i = 1; i < rows.size(); ++i) gaps.push_back(rows[i].arrival_s - rows[i - 1].arrival_s);
  return gaps;
}

void ExpectNonDecreasing(const std::vector<TraceRequest>& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].id, i);
    if (i > 0) {
      ASSERT_LE(rows[i - 1].arrival_s, rows[i].arrival_s) << "at " << i;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Building blocks

TEST(TraceCivilTime, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2023, 11, 16), 19677);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
}

TEST(TraceCivilTime, ParsesAndRejects) {
  CivilTimestamp t;
  ASSERT_TRUE(ParseCivilTimestamp("2023-11-16 18:15:46.6805900", &t));
  EXPECT_EQ(t.seconds, 19677LL * 86400 + 18 * 3600 + 15 * 60 + 46);
  EXPECT_EQ(t.nanos, 680590000);
  ASSERT_TRUE(ParseCivilTimestamp("2023-11-16 18:15:46.123456789123", &t));
  EXPECT_EQ(t.nanos, 123456789);
  ASSERT_TRUE(ParseCivilTimestamp("2024-02-29T00:00:00", &t));
  EXPECT_EQ(t.nanos, 0);
  for (const char* bad : {"2023-02-29 00:00:00", "2023-13-01 00:00:00", "2023-11-16 24:00:00",
                          "2023-11-16 18:60:00", "2023-11-16 18:15:46.", "2023-11-16 18:15:46.12x",
                          "2023-11-16", "2023/11/16 18:15:46", "", "2023-11-16 18:15:4a"}) {
    EXPECT_FALSE(ParseCivilTimestamp(bad, &t)) << bad;
  }
}

TEST(TraceRandom, ReferenceValues) {
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(&state), 0xe220a8397b1dcdafULL);
  // xoshiro256** seeded with four splitmix64(42) outputs, checked against an independent implementation.
  Rng rng(42);
  EXPECT_EQ(rng.NextU64(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(rng.NextU64(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(rng.NextU64(), 0xae17533239e499a1ULL);
  EXPECT_NE(DeriveSeed(7, "arrivals"), DeriveSeed(7, "prompt_len"));
  EXPECT_NE(DeriveSeed(7, "arrivals"), DeriveSeed(8, "arrivals"));
  EXPECT_EQ(DeriveSeed(7, "arrivals"), DeriveSeed(7, "arrivals"));
}

TEST(TraceRandom, UniformIntCoversInclusiveRange) {
  Rng rng(3);
  int counts[5] = {0};
  for (int i = 0; i < 50000; ++i) {
    const int64_t v = rng.UniformInt(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 2);
    ++counts[v + 2];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(TraceRandom, GammaMeanAndVariance) {
  for (double shape : {0.25, 1.0, 4.0}) {
    Rng rng(11);
    std::vector<double> x(200000);
    for (double& v : x) v = rng.Gamma(shape, 2.0);
    double mean = 0;
    for (double v : x) mean += v;
    mean /= x.size();
    EXPECT_NEAR(mean / (shape * 2.0), 1.0, 0.02) << shape;
    EXPECT_NEAR(Cv(x), 1.0 / std::sqrt(shape), 0.03 / std::sqrt(shape)) << shape;
  }
}

TEST(TraceLineReader, LineNumbersCrLfLongLinesAndProgress) {
  const std::string long_line(10000, 'x');
  const std::string path = WriteTemp("lines.txt", "a\r\n\r\n" + long_line + "\nlast");
  absl::StatusOr<std::unique_ptr<CsvLineReader>> reader = CsvLineReader::Open(path, 4096);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::string_view line;
  ASSERT_TRUE((*reader)->NextLine(&line));
  EXPECT_EQ(line, "a");
  EXPECT_EQ((*reader)->line_number(), 1);
  ASSERT_TRUE((*reader)->NextLine(&line));
  EXPECT_EQ(line, "");
  ASSERT_TRUE((*reader)->NextLine(&line));
  EXPECT_EQ(line, long_line);
  EXPECT_LT((*reader)->Progress(), 1.0);
  ASSERT_TRUE((*reader)->NextLine(&line));
  EXPECT_EQ(line, "last");
  EXPECT_EQ((*reader)->line_number(), 4);
  EXPECT_DOUBLE_EQ((*reader)->Progress(), 1.0);
  EXPECT_FALSE((*reader)->NextLine(&line));
  EXPECT_TRUE((*reader)->status().ok());
}

// ---------------------------------------------------------------------------------------------------
// Azure CSV

TEST(TraceAzure, ParsesAcrossMidnightAndMonthBoundary) {
  const std::string path = WriteTemp("azure_ok.csv",
                                     "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                     "2023-11-30 23:59:59.5000000,374,44\n"
                                     "2023-12-01 00:00:00.2500000,396,109\n"
                                     "\n"
                                     "2023-12-01 00:00:00.2500000,879,55\n"
                                     "2023-12-02 00:00:01,91,16\n");
  std::vector<TraceRequest> rows = MustDrain(TraceSpec(path, "azure"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_DOUBLE_EQ(rows[0].arrival_s, 0.0);
  EXPECT_NEAR(rows[1].arrival_s, 0.75, 1e-9);
  EXPECT_NEAR(rows[2].arrival_s, 0.75, 1e-9);
  EXPECT_NEAR(rows[3].arrival_s, 86400 + 1.5, 1e-9);
  EXPECT_EQ(rows[0].prompt_tokens, 374u);
  EXPECT_EQ(rows[0].output_tokens, 44u);
  EXPECT_EQ(rows[3].prompt_tokens, 91u);
  EXPECT_EQ(rows[3].priority, 0);
  ExpectNonDecreasing(rows);
}

TEST(TraceAzure, ZeroTokensAreClampedAndCounted) {
  const std::string path = WriteTemp("azure_zero.csv",
                                     "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                                     "2023-11-16 18:15:46.6805900,0,44\r\n"
                                     "2023-11-16 18:15:47.6805900,5,0\r\n"
                                     "2023-11-16 18:15:48.6805900,5,6\r\n");
  absl::StatusOr<std::unique_ptr<AzureCsvStream>> s = AzureCsvStream::Open(path);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<std::vector<TraceRequest>> rows = Drain(**s);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].prompt_tokens, 1u);
  EXPECT_EQ((*rows)[1].output_tokens, 1u);
  EXPECT_NEAR((*rows)[2].arrival_s, 2.0, 1e-9);
  EXPECT_EQ((*s)->clamped_token_rows(), 2);
}

struct BadRow {
  const char* name;
  const char* row;
  const char* expected;  // substring of the error after "PATH:"
};

class TraceAzureBadRow : public testing::TestWithParam<BadRow> {};

TEST_P(TraceAzureBadRow, ReportsLineNumber) {
  const BadRow& p = GetParam();
  // The bad row is on line 4 (header, a good row, a blank line, the bad row).
  const std::string path = WriteTemp(absl::StrCat("azure_bad_", p.name, ".csv"),
                                     absl::StrCat("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                                  "2023-11-16 18:15:46.6805900,374,44\n"
                                                  "\n",
                                                  p.row, "\n2023-11-16 18:15:50.0,1,1\n"));
  absl::Status s = StreamError(TraceSpec(path, "azure"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().find(path + ":4: " + p.expected), 0u) << s.message();
  EXPECT_NE(s.message().find("; expected"), std::string::npos) << s.message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, TraceAzureBadRow,
    testing::Values(
        BadRow{"nonnumeric", "2023-11-16 18:15:47.0,abc,5",
               "ContextTokens is 'abc'; expected a non-negative integer"},
        BadRow{"negative", "2023-11-16 18:15:47.0,5,-3", "GeneratedTokens is '-3'; expected a non-negative integer"},
        BadRow{"fraction", "2023-11-16 18:15:47.0,5.5,3", "ContextTokens is '5.5'"},
        BadRow{"missing", "2023-11-16 18:15:47.0,5", "row has 2 fields; expected 3"},
        BadRow{"extra", "2023-11-16 18:15:47.0,5,5,5", "row has 4 fields; expected 3"},
        BadRow{"empty_field", "2023-11-16 18:15:47.0,,5", "ContextTokens is ''"},
        BadRow{"baddate", "2023-11-31 18:15:47.0,5,5", "TIMESTAMP is '2023-11-31 18:15:47.0'"},
        BadRow{"garbage_time", "yesterday,5,5", "TIMESTAMP is 'yesterday'"},
        BadRow{"out_of_order", "2023-11-16 18:15:46.6805899,5,5",
               "TIMESTAMP '2023-11-16 18:15:46.6805899' is 0.0000001 s earlier than the previous row's"}),
    [](const testing::TestParamInfo<BadRow>& info) { return std::string(info.param.name); });

TEST(TraceAzure, WrongHeaderFailsAtCreation) {
  const std::string path = WriteTemp("azure_header.csv", "time,prompt,output\n2023-11-16 18:15:46,1,1\n");
  absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(TraceSpec(path, "azure"), 1, kInf);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            path + ":1: header is 'time,prompt,output'; expected 'TIMESTAMP,ContextTokens,GeneratedTokens' "
                   "(Azure LLM trace format)");
  // A native file read as Azure, and an empty file.
  const std::string native = WriteTemp("native_as_azure.csv", "arrival_s,prompt_tokens,output_tokens\n0,1,1\n");
  s = MakeRequestStream(TraceSpec(native, "azure"), 1, kInf);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().find(native + ":1: header is"), 0u) << s.status();
  const std::string empty = WriteTemp("empty.csv", "");
  s = MakeRequestStream(TraceSpec(empty, "azure"), 1, kInf);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().find(empty + ":1: the file is empty"), 0u) << s.status();
}

TEST(TraceAzure, MissingFileIsNotFound) {
  const std::string path = testing::TempDir() + "/gpufleet_trace_does_not_exist.csv";
  for (int superpose : {1, 3}) {
    WorkloadSpec spec = TraceSpec(path, "azure");
    spec.superpose = superpose;
    absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(spec, 1, kInf);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(s.status().message(), path + ": cannot open trace file");
  }
}

TEST(TraceAzure, UnknownFormatIsInvalid) {
  absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(TraceSpec("x.csv", "parquet"), 1, kInf);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("expected 'azure' or 'native'"), std::string::npos) << s.status();
}

// ---------------------------------------------------------------------------------------------------
// Native CSV

TEST(TraceNative, ThreeColumns) {
  const std::string path = WriteTemp("native3.csv",
                                     "# generated by hand\n"
                                     "arrival_s,prompt_tokens,output_tokens\n"
                                     "0,512,128\n"
                                     "\n"
                                     "# a comment\n"
                                     "0.5,100,1\n"
                                     "0.5,7,8\n"
                                     "2.25,1,2");
  std::vector<TraceRequest> rows = MustDrain(TraceSpec(path, "native"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].prompt_tokens, 512u);
  EXPECT_EQ(rows[0].output_tokens, 128u);
  EXPECT_DOUBLE_EQ(rows[1].arrival_s, 0.5);
  EXPECT_DOUBLE_EQ(rows[3].arrival_s, 2.25);
  EXPECT_EQ(rows[3].priority, 0);
  EXPECT_EQ(rows[3].service_class, 0);
  ExpectNonDecreasing(rows);
}

TEST(TraceNative, PriorityAndClassColumnsInAnyOrder) {
  const std::string a = WriteTemp("native_pc.csv",
                                  "arrival_s,prompt_tokens,output_tokens,priority,class\n"
                                  "1.5,10,20,-1,2\n"
                                  "3,11,21,5,0\n");
  std::vector<TraceRequest> rows = MustDrain(TraceSpec(a, "native"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0].arrival_s, 1.5);  // native arrivals are used as-is
  EXPECT_EQ(rows[0].priority, -1);
  EXPECT_EQ(rows[0].service_class, 2);
  EXPECT_EQ(rows[1].priority, 5);
  const std::string b = WriteTemp("native_c.csv",
                                  "arrival_s,prompt_tokens,output_tokens,class\n"
                                  "0,10,20,3\n");
  rows = MustDrain(TraceSpec(b, "native"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].service_class, 3);
  EXPECT_EQ(rows[0].priority, 0);
  const std::string c = WriteTemp("native_cp.csv",
                                  "arrival_s,prompt_tokens,output_tokens,class,priority\n"
                                  "0,10,20,3,9\n");
  rows = MustDrain(TraceSpec(c, "native"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].service_class, 3);
  EXPECT_EQ(rows[0].priority, 9);
}

TEST(TraceNative, BadHeaders) {
  for (const char* header : {"prompt_tokens,arrival_s,output_tokens", "arrival_s,prompt_tokens",
                             "arrival_s,prompt_tokens,output_tokens,user",
                             "arrival_s,prompt_tokens,output_tokens,class,class"}) {
    const std::string path = WriteTemp("native_badheader.csv", absl::StrCat("# c\n", header, "\n0,1,1\n"));
    absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(TraceSpec(path, "native"), 1, kInf);
    ASSERT_FALSE(s.ok()) << header;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message().find(path + ":2: header is"), 0u) << s.status();
    EXPECT_NE(s.status().message().find("expected 'arrival_s,prompt_tokens,output_tokens'"), std::string::npos);
  }
}

TEST(TraceNative, BadRowsReportLineNumbers) {
  const std::pair<const char*, const char*> cases[] = {
      {"-1,5,5,0", "arrival_s is '-1'; expected a number of seconds >= 0"},
      {"nan,5,5,0", "arrival_s is 'nan'"},
      {"x,5,5,0", "arrival_s is 'x'"},
      {"2,0,5,0", "prompt_tokens is '0'; expected an integer from 1"},
      {"2,5,1.5,0", "output_tokens is '1.5'"},
      {"2,5", "row has 2 fields; expected 4 as in the header"},
      {"2,5,5,abc", "class is 'abc'; expected an integer from 0"},
      {"2,5,5,-1", "class is '-1'"},
      {"0.5,5,5,0", "arrival_s 0.5 is earlier than the previous row's 1; expected non-decreasing"},
  };
  for (const auto& [row, expected] : cases) {
    const std::string path = WriteTemp("native_badrow.csv", absl::StrCat("arrival_s,prompt_tokens,output_tokens,class\n"
                                                                         "1,1,1,0\n# comment\n",
                                                                         row, "\n"));
    absl::Status s = StreamError(TraceSpec(path, "native"));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(s.message().find(absl::StrCat(path, ":4: ", expected)), 0u) << s.message();
  }
}

TEST(TraceNative, SharedPrefixColumns) {
  const std::string path = WriteTemp("native_prefix.csv",
                                     "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n"
                                     "0,600,10,3,512\n"
                                     "1,100,10,0,0\n");
  std::vector<TraceRequest> rows = MustDrain(TraceSpec(path, "native"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].prefix_id, 3u);
  EXPECT_EQ(rows[0].prefix_tokens, 512u);
  EXPECT_EQ(rows[1].prefix_id, 0u);
  EXPECT_EQ(rows[1].prefix_tokens, 0u);
  // The two columns come together; a shared prefix is shorter than its prompt.
  const std::string lone = WriteTemp("native_prefix_lone.csv", "arrival_s,prompt_tokens,output_tokens,prefix_id\n0,5,5,1\n");
  absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(TraceSpec(lone, "native"), 1, kInf);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("prefix_id and prefix_tokens come together"), std::string::npos) << s.status();
  const std::string longer = WriteTemp("native_prefix_long.csv",
                                       "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,5,5,1,5\n");
  absl::Status st = StreamError(TraceSpec(longer, "native"));
  EXPECT_EQ(st.message().find(absl::StrCat(longer, ":2: prefix_tokens is 5; expected from 1 to prompt_tokens - 1 (4)")), 0u)
      << st.message();
}

TEST(TraceTags, PrioritiesAndPrefixesFollowTheirSharesAndTheSeed) {
  WorkloadSpec spec;
  spec.source = WorkloadSpec::Source::kSynthetic;
  spec.rate_rps = 100;
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kUniform, 0, 1, 3000};
  spec.output_len = LengthSpec{LengthSpec::Kind::kFixed, 10};
  spec.max_requests = 20000;
  spec.priority_shares = {0.75, 0.25};
  spec.prefix_groups = 4;
  spec.prefix_tokens = 1000;
  spec.prefix_share = 0.5;
  std::vector<TraceRequest> rows = MustDrain(spec);
  ASSERT_EQ(rows.size(), 20000u);
  int high = 0, shared = 0;
  for (const TraceRequest& r : rows) {
    high += r.priority == 1;
    ASSERT_TRUE(r.priority == 0 || r.priority == 1);
    if (r.prefix_id == 0) {
      EXPECT_EQ(r.prefix_tokens, 0u);
      continue;
    }
    ++shared;
    EXPECT_LE(r.prefix_id, 4u);
    EXPECT_EQ(r.prefix_tokens, std::min<uint32_t>(1000, r.prompt_tokens - 1));
  }
  EXPECT_NEAR(high / 20000.0, 0.25, 0.015);
  EXPECT_NEAR(shared / 20000.0, 0.5, 0.015);  // less the rare one-token prompts
  // Tagging draws from its own streams: arrivals and lengths are those of the untagged workload.
  WorkloadSpec plain = spec;
  plain.priority_shares.clear();
  plain.prefix_groups = 0;
  std::vector<TraceRequest> untagged = MustDrain(plain);
  ASSERT_EQ(untagged.size(), rows.size());
  for (size_t i = 0; i < rows.size(); i += 997) {
    EXPECT_EQ(untagged[i].arrival_s, rows[i].arrival_s);
    EXPECT_EQ(untagged[i].prompt_tokens, rows[i].prompt_tokens);
  }
}

// ---------------------------------------------------------------------------------------------------
// Synthetic

WorkloadSpec Synthetic(const std::string& arrival, double rate, double cv = 1.0) {
  WorkloadSpec spec;
  spec.source = WorkloadSpec::Source::kSynthetic;
  spec.arrival = arrival;
  spec.rate_rps = rate;
  spec.cv = cv;
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kFixed, 256};
  spec.output_len = LengthSpec{LengthSpec::Kind::kFixed, 64};
  return spec;
}

TEST(TraceSynthetic, PoissonRateAndCv) {
  WorkloadSpec spec = Synthetic("poisson", 40.0);
  spec.max_requests = 100000;
  std::vector<TraceRequest> rows = MustDrain(spec, 17);
  ASSERT_EQ(rows.size(), 100000u);
  ExpectNonDecreasing(rows);
  const double rate = rows.size() / rows.back().arrival_s;
  EXPECT_NEAR(rate / 40.0, 1.0, 0.03);
  EXPECT_NEAR(Cv(Gaps(rows)), 1.0, 0.03);
  EXPECT_EQ(rows[5].prompt_tokens, 256u);
  EXPECT_EQ(rows[5].output_tokens, 64u);
}

TEST(TraceSynthetic, GammaCv) {
  for (double cv : {2.0, 0.5, 1.0}) {
    WorkloadSpec spec = Synthetic("gamma", 10.0, cv);
    spec.max_requests = 100000;
    std::vector<TraceRequest> rows = MustDrain(spec, 5);
    ASSERT_EQ(rows.size(), 100000u);
    ExpectNonDecreasing(rows);
    EXPECT_NEAR(Cv(Gaps(rows)) / cv, 1.0, 0.05) << cv;
    EXPECT_NEAR(rows.size() / rows.back().arrival_s / 10.0, 1.0, 0.03) << cv;
  }
}

TEST(TraceSynthetic, LognormalMedianAndClamp) {
  WorkloadSpec spec = Synthetic("poisson", 100.0);
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kLognormal, 0, 1, 1000000, 800.0, 1.0};
  spec.output_len = LengthSpec{LengthSpec::Kind::kLognormal, 0, 50, 400, 200.0, 1.5};
  spec.max_requests = 100000;
  std::vector<TraceRequest> rows = MustDrain(spec, 9);
  std::vector<uint32_t> prompts, outputs;
  for (const TraceRequest& r : rows) {
    prompts.push_back(r.prompt_tokens);
    outputs.push_back(r.output_tokens);
  }
  std::nth_element(prompts.begin(), prompts.begin() + prompts.size() / 2, prompts.end());
  EXPECT_NEAR(prompts[prompts.size() / 2] / 800.0, 1.0, 0.03);
  EXPECT_EQ(*std::min_element(outputs.begin(), outputs.end()), 50u);
  EXPECT_EQ(*std::max_element(outputs.begin(), outputs.end()), 400u);
}

TEST(TraceSynthetic, UniformBounds) {
  WorkloadSpec spec = Synthetic("poisson", 100.0);
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kUniform, 0, 10, 20};
  spec.output_len = LengthSpec{LengthSpec::Kind::kUniform, 0, 1, 1};
  spec.max_requests = 20000;
  std::vector<TraceRequest> rows = MustDrain(spec, 9);
  std::set<uint32_t> seen;
  for (const TraceRequest& r : rows) {
    ASSERT_GE(r.prompt_tokens, 10u);
    ASSERT_LE(r.prompt_tokens, 20u);
    ASSERT_EQ(r.output_tokens, 1u);
    seen.insert(r.prompt_tokens);
  }
  EXPECT_EQ(seen.size(), 11u);
}

TEST(TraceSynthetic, Deterministic) {
  WorkloadSpec spec = Synthetic("gamma", 5.0, 1.7);
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kLognormal, 0, 1, 8192, 600.0, 0.8};
  spec.output_len = LengthSpec{LengthSpec::Kind::kUniform, 0, 1, 500};
  spec.max_requests = 1000;
  auto key = [](const std::vector<TraceRequest>& rows) {
    std::vector<std::tuple<double, uint32_t, uint32_t>> k;
    for (const TraceRequest& r : rows) k.emplace_back(r.arrival_s, r.prompt_tokens, r.output_tokens);
    return k;
  };
  const auto a = key(MustDrain(spec, 123));
  const auto b = key(MustDrain(spec, 123));
  const auto c = key(MustDrain(spec, 124));
  ASSERT_EQ(a.size(), 1000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Changing the output lengths does not move arrivals or prompt lengths (separate sub-streams).
  spec.output_len = LengthSpec{LengthSpec::Kind::kFixed, 3};
  const auto d = key(MustDrain(spec, 123));
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(std::get<0>(a[i]), std::get<0>(d[i]));
    ASSERT_EQ(std::get<1>(a[i]), std::get<1>(d[i]));
    ASSERT_EQ(std::get<2>(d[i]), 3u);
  }
}

// Golden values: the generator is hand-written (no std:: distributions) so these hold on every
// platform whose libm log/exp agree with glibc's; a change here changes every synthetic workload.
TEST(TraceSynthetic, GoldenSequence) {
  WorkloadSpec spec = Synthetic("gamma", 5.0, 2.0);
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kLognormal, 0, 1, 8192, 600.0, 0.8};
  spec.output_len = LengthSpec{LengthSpec::Kind::kUniform, 0, 1, 500};
  spec.max_requests = 4;
  const std::vector<TraceRequest> rows = MustDrain(spec, 2024);
  ASSERT_EQ(rows.size(), 4u);
  const double arrivals[] = {0.044963412727385708, 0.04513237887961246, 0.30824425592222776,
                             0.36945887239283098};
  const uint32_t prompts[] = {398, 1323, 928, 813};
  const uint32_t outputs[] = {309, 29, 159, 85};
  for (int i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(rows[i].arrival_s, arrivals[i]) << i;
    EXPECT_EQ(rows[i].prompt_tokens, prompts[i]) << i;
    EXPECT_EQ(rows[i].output_tokens, outputs[i]) << i;
  }
}

TEST(TraceSynthetic, ResamplesJointPairs) {
  const std::string path = WriteTemp("resample.csv",
                                     "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                     "2023-11-16 18:15:46.6805900,100,1\n"
                                     "2023-11-16 18:15:47,200,2\n"
                                     "2023-11-16 18:15:48,300,3\n");
  WorkloadSpec spec = Synthetic("poisson", 10.0);
  spec.resample_path = path;
  spec.resample_format = "azure";
  spec.max_requests = 3000;
  std::vector<TraceRequest> rows = MustDrain(spec, 4);
  ASSERT_EQ(rows.size(), 3000u);
  int counts[3] = {0};
  for (const TraceRequest& r : rows) {
    ASSERT_EQ(r.prompt_tokens, r.output_tokens * 100) << "pairs stay joint";
    ++counts[r.output_tokens - 1];
  }
  for (int c : counts) EXPECT_NEAR(c, 1000, 120);
  spec.resample_path = path + ".missing";
  EXPECT_EQ(MakeRequestStream(spec, 4, kInf).status().code(), absl::StatusCode::kNotFound);
}

TEST(TraceSynthetic, NeedsHorizonOrCap) {
  WorkloadSpec spec = Synthetic("poisson", 10.0);
  absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(spec, 1, kInf);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("a synthetic workload needs a horizon or max_requests"), std::string::npos);
  // A horizon ends it.
  std::vector<TraceRequest> rows = MustDrain(spec, 1, 1000.0);
  EXPECT_NEAR(rows.size() / 10000.0, 1.0, 0.05);
  EXPECT_LT(rows.back().arrival_s, 1000.0);
}

TEST(TraceSynthetic, InvalidSpecs) {
  WorkloadSpec spec = Synthetic("weibull", 10.0);
  spec.max_requests = 10;
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Synthetic("poisson", 0.0);
  spec.max_requests = 10;
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Synthetic("gamma", 1.0, 0.0);
  spec.max_requests = 10;
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec = Synthetic("poisson", 1.0);
  spec.max_requests = 10;
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kLognormal};  // max left at 1, below the median
  absl::Status s = MakeRequestStream(spec, 1, kInf).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find("prompt_len: lognormal median 128 is above max 1"), 0u) << s;
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kUniform, 0, 5, 4};
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec.prompt_len = LengthSpec{LengthSpec::Kind::kFixed, 0};
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------------
// Reshaping

std::string TenRows() {
  std::string text = "arrival_s,prompt_tokens,output_tokens\n";
  for (int i = 0; i < 10; ++i) absl::StrAppend(&text, i, ",", 100 + i, ",", i + 1, "\n");
  return WriteTemp("ten.csv", text);
}

std::vector<double> Arrivals(const std::vector<TraceRequest>& rows) {
  std::vector<double> a;
  for (const TraceRequest& r : rows) a.push_back(r.arrival_s);
  return a;
}

TEST(TraceReshape, MultiplierWindowCapHorizon) {
  const std::string path = TenRows();
  WorkloadSpec spec = TraceSpec(path, "native");
  spec.rate_multiplier = 2.0;
  EXPECT_EQ(Arrivals(MustDrain(spec)), (std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5}));

  spec = TraceSpec(path, "native");
  spec.window_start_s = 2.5;
  spec.window_end_s = 6;
  std::vector<TraceRequest> rows = MustDrain(spec);
  EXPECT_EQ(Arrivals(rows), (std::vector<double>{0.5, 1.5, 2.5}));
  EXPECT_EQ(rows[0].prompt_tokens, 103u);
  ExpectNonDecreasing(rows);

  spec = TraceSpec(path, "native");
  spec.max_requests = 4;
  EXPECT_EQ(MustDrain(spec).size(), 4u);
  spec.max_requests = 0;
  EXPECT_EQ(MustDrain(spec).size(), 0u);

  spec = TraceSpec(path, "native");
  EXPECT_EQ(Arrivals(MustDrain(spec, 1, 5.0)), (std::vector<double>{0, 1, 2, 3, 4}));

  // All together, in the documented order: multiplier, window, cap, horizon.
  spec = TraceSpec(path, "native");
  spec.rate_multiplier = 2.0;   // 0, 0.5, ..., 4.5
  spec.window_start_s = 1.0;    // [1, 3) -> 1, 1.5, 2, 2.5 -> 0, 0.5, 1, 1.5
  spec.window_end_s = 3.0;
  spec.max_requests = 3;        // 0, 0.5, 1
  rows = MustDrain(spec, 1, 0.8);  // 0, 0.5
  EXPECT_EQ(Arrivals(rows), (std::vector<double>{0, 0.5}));
  EXPECT_EQ(rows[0].prompt_tokens, 102u);
  ExpectNonDecreasing(rows);
}

TEST(TraceReshape, InvalidOptions) {
  WorkloadSpec spec = TraceSpec(TenRows(), "native");
  spec.rate_multiplier = 0;
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec = TraceSpec(TenRows(), "native");
  spec.window_start_s = 5;
  spec.window_end_s = 5;
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec = TraceSpec(TenRows(), "native");
  spec.max_requests = -1;
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
  spec = TraceSpec(TenRows(), "native");
  spec.superpose = 0;
  EXPECT_EQ(MakeRequestStream(spec, 1, kInf).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TraceReshape, ProgressGoesFromZeroToOne) {
  WorkloadSpec spec = TraceSpec(TenRows(), "native");
  absl::StatusOr<std::unique_ptr<RequestStream>> s = MakeRequestStream(spec, 1, kInf);
  ASSERT_TRUE(s.ok());
  double last = -1;
  TraceRequest r;
  while (*(*s)->Next(&r)) {
    const double p = (*s)->Progress();
    EXPECT_GE(p, last);
    EXPECT_LE(p, 1.0);
    last = p;
  }
  EXPECT_DOUBLE_EQ((*s)->Progress(), 1.0);

  WorkloadSpec syn = Synthetic("poisson", 10.0);
  s = MakeRequestStream(syn, 1, 100.0);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(*(*s)->Next(&r));
  EXPECT_NEAR((*s)->Progress(), r.arrival_s / 100.0, 1e-12);
  syn.max_requests = 1000;
  s = MakeRequestStream(syn, 1, kInf);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 250; ++i) ASSERT_TRUE(*(*s)->Next(&r));
  EXPECT_DOUBLE_EQ((*s)->Progress(), 0.25);
}

// ---------------------------------------------------------------------------------------------------
// Superposition

TEST(TraceSuperpose, ExactShiftsOnARegularTrace) {
  // Arrivals 0, 1, 2, 3: span 3, mean gap 1, period 4.
  const std::string path = WriteTemp("four.csv",
                                     "arrival_s,prompt_tokens,output_tokens\n0,10,1\n1,11,1\n2,12,1\n3,13,1\n");
  WorkloadSpec spec = TraceSpec(path, "native");
  spec.superpose = 2;  // copy 1 shifted by 2: (2,3) -> (0,1), then (0,1) -> (2,3)
  std::vector<TraceRequest> rows = MustDrain(spec);
  EXPECT_EQ(Arrivals(rows), (std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3}));
  std::vector<uint32_t> prompts;
  for (const TraceRequest& r : rows) prompts.push_back(r.prompt_tokens);
  EXPECT_EQ(prompts, (std::vector<uint32_t>{10, 12, 11, 13, 12, 10, 13, 11}));  // ties: copy 0 first
  ExpectNonDecreasing(rows);
  spec.superpose = 4;
  rows = MustDrain(spec);
  ASSERT_EQ(rows.size(), 16u);
  for (int i = 0; i < 16; ++i) EXPECT_DOUBLE_EQ(rows[i].arrival_s, i / 4);
}

TEST(TraceSuperpose, ThreeCopiesOfAnAzureFile) {
  std::string text = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const int kRows = 200;
  uint64_t state = 99;
  double t = 0;
  for (int i = 0; i < kRows; ++i) {
    t += 0.001 * static_cast<double>(SplitMix64(&state) % 5000);  // irregular gaps, some equal stamps
    const int64_t whole = static_cast<int64_t>(t);
    const int64_t frac = static_cast<int64_t>((t - whole) * 1e7);
    absl::StrAppendFormat(&text, "2023-11-16 23:%02d:%02d.%07d,%d,%d\n", 30 + whole / 60, whole % 60, frac,
                          i + 1, 1);
  }
  const std::string path = WriteTemp("azure_irregular.csv", text);
  absl::StatusOr<TraceExtent> extent = ReadTraceExtent(path, "azure");
  ASSERT_TRUE(extent.ok()) << extent.status();
  EXPECT_TRUE(extent->rows_exact);
  EXPECT_EQ(extent->rows, kRows);
  const std::vector<TraceRequest> single = MustDrain(TraceSpec(path, "azure"));
  ASSERT_EQ(single.size(), static_cast<size_t>(kRows));
  EXPECT_NEAR(extent->span_s(), single.back().arrival_s, 1e-9);
  EXPECT_NEAR(extent->mean_gap_s, extent->span_s() / (kRows - 1), 1e-12);

  WorkloadSpec spec = TraceSpec(path, "azure");
  spec.superpose = 3;
  std::vector<TraceRequest> rows = MustDrain(spec);
  ASSERT_EQ(rows.size(), 3u * kRows);
  ExpectNonDecreasing(rows);
  std::multiset<uint32_t> prompts;
  for (const TraceRequest& r : rows) {
    EXPECT_GE(r.arrival_s, 0.0);
    EXPECT_LT(r.arrival_s, extent->period_s());
    prompts.insert(r.prompt_tokens);
  }
  for (int i = 1; i <= kRows; ++i) EXPECT_EQ(prompts.count(i), 3u) << i;
}

TEST(TraceSuperpose, RowErrorsKeepTheirLineNumbers) {
  const std::string bad_middle = WriteTemp("superpose_bad_middle.csv",
                                           "arrival_s,prompt_tokens,output_tokens\n0,1,1\n1,x,1\n2,1,1\n");
  WorkloadSpec spec = TraceSpec(bad_middle, "native");
  spec.superpose = 3;
  absl::Status s = StreamError(spec);
  EXPECT_EQ(s.message().find(bad_middle + ":3: prompt_tokens is 'x'"), 0u) << s;
  // A bad last row is found when the extent is read, before streaming.
  const std::string bad_last = WriteTemp("superpose_bad_last.csv",
                                         "arrival_s,prompt_tokens,output_tokens\n0,1,1\n1,1,1\n2,1\n");
  spec = TraceSpec(bad_last, "native");
  spec.superpose = 3;
  absl::StatusOr<std::unique_ptr<RequestStream>> st = MakeRequestStream(spec, 1, kInf);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().message().find(bad_last + ":4: row has 2 fields"), 0u) << st.status();
}

TEST(TraceSuperpose, ExtentOfALargeFileFromItsTail) {
  std::string text = "arrival_s,prompt_tokens,output_tokens\n";
  const int kRows = 50000;
  for (int i = 0; i < kRows; ++i) absl::StrAppendFormat(&text, "%.2f,%d,%d\n", 10 + i * 0.25, 1 + i % 997, 1 + i % 13);
  text += "\n# trailing comment\n";
  const std::string path = WriteTemp("large_native.csv", text);
  absl::StatusOr<TraceExtent> extent = ReadTraceExtent(path, "native");
  ASSERT_TRUE(extent.ok()) << extent.status();
  EXPECT_FALSE(extent->rows_exact);
  EXPECT_NEAR(static_cast<double>(extent->rows) / kRows, 1.0, 0.05);
  EXPECT_DOUBLE_EQ(extent->first_arrival_s, 10.0);
  EXPECT_DOUBLE_EQ(extent->last_arrival_s, 10 + (kRows - 1) * 0.25);
  WorkloadSpec spec = TraceSpec(path, "native");
  spec.superpose = 5;
  std::vector<TraceRequest> rows = MustDrain(spec);
  ASSERT_EQ(rows.size(), 5u * kRows);
  ExpectNonDecreasing(rows);
  EXPECT_GE(rows.front().arrival_s, 10.0);
  EXPECT_LT(rows.back().arrival_s, 10.0 + extent->period_s());
}

// ---------------------------------------------------------------------------------------------------
// The real Azure traces (../shared/data), when present.

const std::string kConvPath = GPUFLEET_SHARED_DATA_DIR "/azure-llm-2023/AzureLLMInferenceTrace_conv.csv";
const std::string kCodePath = GPUFLEET_SHARED_DATA_DIR "/azure-llm-2023/AzureLLMInferenceTrace_code.csv";

TEST(TraceAzureReal, ConvTrace) {
  if (!std::filesystem::exists(kConvPath)) GTEST_SKIP() << "../shared/data not present";
  std::vector<TraceRequest> rows = MustDrain(TraceSpec(kConvPath, "azure"));
  ASSERT_EQ(rows.size(), 19366u);
  EXPECT_EQ(rows.front().arrival_s, 0.0);
  EXPECT_NEAR(rows.back().arrival_s, 3600.0, 120.0);
  ExpectNonDecreasing(rows);
  for (const TraceRequest& r : rows) {
    ASSERT_GE(r.prompt_tokens, 1u);
    ASSERT_GE(r.output_tokens, 1u);
  }
}

TEST(TraceAzureReal, ConvTraceSuperposedTenTimes) {
  if (!std::filesystem::exists(kConvPath)) GTEST_SKIP() << "../shared/data not present";
  WorkloadSpec spec = TraceSpec(kConvPath, "azure");
  spec.superpose = 10;
  std::vector<TraceRequest> rows = MustDrain(spec);
  ASSERT_EQ(rows.size(), 193660u);
  ExpectNonDecreasing(rows);
  EXPECT_GE(rows.front().arrival_s, 0.0);
  EXPECT_LT(rows.back().arrival_s, 3720.0);
  // Ten times the load: the mean rate over the hour is ~10x the single trace's.
  EXPECT_NEAR(rows.size() / rows.back().arrival_s, 10 * 19366 / 3502.0, 10 * 19366 / 3502.0 * 0.05);
}

TEST(TraceAzureReal, CodeTrace) {
  if (!std::filesystem::exists(kCodePath)) GTEST_SKIP() << "../shared/data not present";
  absl::StatusOr<std::unique_ptr<AzureCsvStream>> s = AzureCsvStream::Open(kCodePath);
  ASSERT_TRUE(s.ok()) << s.status();
  absl::StatusOr<std::vector<TraceRequest>> rows = Drain(**s);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 8819u);
  EXPECT_EQ((*s)->clamped_token_rows(), 0);
  EXPECT_NEAR(rows->back().arrival_s, 3436.0, 1.0);  // 18:17:03.98 to 19:14:19.93
}

}  // namespace
}  // namespace gpufleet
