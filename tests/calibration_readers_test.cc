// Measurement readers (models/calibration/measurements.h): the published vidur and Splitwise files in
// ../shared/data when present, and small malformed files for the path:row errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <tuple>

#include "models/calibration/measurements.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using ::gpufleet::testing::HasSharedData;
using ::gpufleet::testing::SharedData;
using ::gpufleet::testing::TempDir;
using ::gpufleet::testing::WriteFile;

#define SKIP_WITHOUT_SHARED_DATA() \
  if (!HasSharedData()) GTEST_SKIP() << "../shared/data not present"

const GemmSample* FindGemm(const VidurComputeSet& set, int64_t row, const std::string& op) {
  for (const GemmSample& g : set.gemms) {
    if (g.origin.row == row && g.op == op) return &g;
  }
  return nullptr;
}

const ElementwiseSample* FindElementwise(const VidurComputeSet& set, int64_t row, const std::string& op) {
  for (const ElementwiseSample& e : set.elementwise) {
    if (e.origin.row == row && e.op == op) return &e;
  }
  return nullptr;
}

TEST(CalibrationVidurCompute, H100Llama70bRowsShapesAndTimes) {
  SKIP_WITHOUT_SHARED_DATA();
  auto set = ReadVidurCompute(SharedData("vidur-profiles/compute/h100/meta-llama/Llama-2-70b-hf/mlp.csv"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->gemms.size(), 1044u * 4);
  EXPECT_EQ(set->elementwise.size(), 1044u * 6);
  // First data row: num_tokens 4096, tp 1, Llama-2-70B (64 heads, 8 KV heads, width 8192, FFN 28672).
  const GemmSample* pre = FindGemm(*set, 2, "attn_pre_proj");
  ASSERT_NE(pre, nullptr);
  EXPECT_EQ(pre->origin.model, "Llama-2-70b-hf");
  EXPECT_EQ(pre->tensor_parallel, 1);
  EXPECT_NEAR(pre->time_s, 0.0009825, 1e-12);
  EXPECT_EQ(std::tie(pre->m, pre->n, pre->k),
            std::make_tuple(int64_t{4096}, int64_t{(64 + 16) * 128}, int64_t{8192}));
  const GemmSample* post = FindGemm(*set, 2, "attn_post_proj");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(std::tie(post->n, post->k), std::make_tuple(int64_t{8192}, int64_t{8192}));
  const GemmSample* up = FindGemm(*set, 2, "mlp_up_proj");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(std::tie(up->m, up->n, up->k), std::make_tuple(int64_t{4096}, int64_t{57344}, int64_t{8192}));
  const GemmSample* down = FindGemm(*set, 2, "mlp_down_proj");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(std::tie(down->n, down->k), std::make_tuple(int64_t{8192}, int64_t{28672}));
  const ElementwiseSample* norm = FindElementwise(*set, 2, "post_attention_layernorm");
  ASSERT_NE(norm, nullptr);
  EXPECT_DOUBLE_EQ(norm->bytes, 2.0 * 4096 * 8192 * 2);
  EXPECT_NEAR(norm->time_s, 0.000125, 1e-12);
  const ElementwiseSample* rope = FindElementwise(*set, 2, "attn_rope");
  ASSERT_NE(rope, nullptr);
  EXPECT_DOUBLE_EQ(rope->bytes, 2.0 * 4096 * (64 + 8) * 128 * 2);
  const ElementwiseSample* act = FindElementwise(*set, 2, "mlp_act");
  ASSERT_NE(act, nullptr);
  EXPECT_DOUBLE_EQ(act->bytes, 3.0 * 4096 * 28672 * 2);
  // At tp 8 each GPU holds 8 query heads and one KV head.
  for (const GemmSample& g : set->gemms) {
    if (g.tensor_parallel == 8 && g.op == "attn_pre_proj") {
      EXPECT_EQ(g.n, (8 + 2 * 1) * 128);
    }
    if (g.tensor_parallel == 8 && g.op == "mlp_down_proj") {
      EXPECT_EQ(g.k, 28672 / 8);
    }
    EXPECT_GT(g.time_s, 0);
  }
}

TEST(CalibrationVidurCompute, Phi2HasNoPostAttentionNormAndAPlainMlp) {
  SKIP_WITHOUT_SHARED_DATA();
  auto set = ReadVidurCompute(SharedData("vidur-profiles/compute/a100/microsoft/phi-2/mlp.csv"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->gemms.size(), 261u * 4);
  EXPECT_EQ(set->elementwise.size(), 261u * 5);
  for (const ElementwiseSample& e : set->elementwise) EXPECT_NE(e.op, "post_attention_layernorm");
  // phi-2: 32 heads of 80, width 2560, FFN 10240 without a gate.
  const GemmSample* up = FindGemm(*set, 2, "mlp_up_proj");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->origin.model, "phi-2");
  EXPECT_EQ(std::tie(up->n, up->k), std::make_tuple(int64_t{10240}, int64_t{2560}));
  const GemmSample* pre = FindGemm(*set, 2, "attn_pre_proj");
  ASSERT_NE(pre, nullptr);
  EXPECT_EQ(pre->n, 3 * 2560);
  const ElementwiseSample* act = FindElementwise(*set, 2, "mlp_act");
  ASSERT_NE(act, nullptr);
  EXPECT_DOUBLE_EQ(act->bytes, 2.0 * 4096 * 10240 * 2);
}

TEST(CalibrationVidurCompute, DirectoryReadsEveryProfileInPathOrder) {
  SKIP_WITHOUT_SHARED_DATA();
  auto set = ReadVidurComputeDir(SharedData("vidur-profiles/compute/h100"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->gemms.size(), (3u * 1044 + 261) * 4);
  EXPECT_EQ(set->gemms.front().origin.model, "CodeLlama-34b-Instruct-hf");  // codellama/ sorts first
  EXPECT_EQ(set->gemms.back().origin.model, "phi-2");                       // microsoft/ last
  auto all = ReadVidurComputeDir(SharedData("vidur-profiles/compute"));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->gemms.size(), 3 * set->gemms.size());
}

TEST(CalibrationVidurCompute, DirectoryWithoutProfilesIsAnError) {
  const std::string dir = TempDir();
  auto set = ReadVidurComputeDir(dir);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().message(), dir + ": no mlp.csv below it");
  EXPECT_FALSE(ReadVidurComputeDir(dir + "/missing").ok());
}

TEST(CalibrationVidurNetwork, PublishedProfilesParse) {
  SKIP_WITHOUT_SHARED_DATA();
  const std::map<std::string, size_t> rows = {{"a100_dgx/all_reduce.csv", 6958},
                                              {"a100_dgx/send_recv.csv", 1988},
                                              {"a100_pairwise_nvlink/all_reduce.csv", 4496},
                                              {"a100_pairwise_nvlink/send_recv.csv", 1988},
                                              {"h100_dgx/all_reduce.csv", 2982},
                                              {"h100_dgx/send_recv.csv", 1988}};
  for (const auto& [file, count] : rows) {
    auto samples = ReadVidurNetwork(SharedData("vidur-profiles/network/" + file));
    ASSERT_TRUE(samples.ok()) << samples.status();
    EXPECT_EQ(samples->size(), count) << file;
    const std::string node = file.substr(0, file.find('/'));
    const std::string collective = file.substr(file.find('/') + 1, file.find('.') - file.find('/') - 1);
    for (const CollectiveSample& c : *samples) {
      EXPECT_EQ(c.node, node);
      EXPECT_EQ(c.collective, collective);
      EXPECT_TRUE(c.origin.model.empty());
      EXPECT_GE(c.ranks, 2);
      EXPECT_EQ(c.ranks % c.devices_per_node, 0);
      EXPECT_GE(c.bytes, 1024);
      EXPECT_GT(c.time_s, 0);
      EXPECT_LT(c.time_s, 10);
    }
  }
  auto h100 = ReadVidurNetwork(SharedData("vidur-profiles/network/h100_dgx/all_reduce.csv"));
  ASSERT_TRUE(h100.ok());
  const CollectiveSample& first = h100->front();  // index 0: 8 ranks on one node, 2 KiB, 0.037 ms
  EXPECT_EQ(first.origin.row, 2);
  EXPECT_EQ(first.ranks, 8);
  EXPECT_EQ(first.devices_per_node, 8);
  EXPECT_EQ(first.bytes, 2048);
  EXPECT_NEAR(first.time_s, 0.037e-3, 1e-15);
}

TEST(CalibrationSplitwise, PublishedFileParsesAndPowerCapIsPromptTimesOnePointThree) {
  SKIP_WITHOUT_SHARED_DATA();
  auto samples = ReadSplitwise(SharedData("splitwise/perf_model_llama2-70b.csv"));
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 945u);
  std::map<std::string, int> per_hardware;
  for (const EndToEndSample& e : *samples) ++per_hardware[e.hardware];
  EXPECT_EQ(per_hardware,
            (std::map<std::string, int>{{"a100-80gb", 315}, {"h100-80gb", 315}, {"h100-80gb-pcap", 315}}));
  const EndToEndSample& first = samples->front();
  EXPECT_EQ(first.origin.row, 2);
  EXPECT_EQ(first.model, "llama2-70b");
  EXPECT_EQ(std::tie(first.prompt_tokens, first.batch, first.output_tokens, first.tensor_parallel),
            std::make_tuple(512, 1, 128, 2));
  EXPECT_NEAR(first.prefill_s, 0.1962532191537321, 1e-12);
  // Each pcap row repeats an H100 row's decode and e2e times with its prompt time x 1.3.
  int matched = 0;
  for (const EndToEndSample& pcap : *samples) {
    if (pcap.hardware != "h100-80gb-pcap") continue;
    for (const EndToEndSample& h : *samples) {
      if (h.hardware == "h100-80gb" && h.prompt_tokens == pcap.prompt_tokens && h.batch == pcap.batch &&
          h.output_tokens == pcap.output_tokens && h.tensor_parallel == pcap.tensor_parallel &&
          h.decode_iteration_s == pcap.decode_iteration_s && h.e2e_s == pcap.e2e_s) {
        EXPECT_NEAR(pcap.prefill_s / h.prefill_s, 1.3, 1e-9) << "row " << pcap.origin.row;
        ++matched;
        break;
      }
    }
  }
  EXPECT_EQ(matched, 315);
}

// --- Malformed files -------------------------------------------------------------------------------

const char kComputeHeader[] =
    "time_stats.attn_pre_proj.min,time_stats.attn_pre_proj.median,time_stats.add.median,n_head,n_kv_head,"
    "n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,num_tensor_parallel_workers\n";

std::string Error(const absl::Status& status) { return std::string(status.message()); }

::testing::AssertionResult StartsWith(const std::string& text, const std::string& prefix) {
  if (text.compare(0, prefix.size(), prefix) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not start with '" << prefix << "'";
}

TEST(CalibrationReaderErrors, ComputeFileOfSmallModelReadsOnlyItsOps) {
  const std::string path = WriteFile(TempDir(), "mlp.csv",
                                     std::string(kComputeHeader) + "0.5,1.5,0.25,4,2,64,128,100,False,8,2\n");
  auto set = ReadVidurCompute(path);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->gemms.size(), 1u);
  ASSERT_EQ(set->elementwise.size(), 1u);
  const GemmSample& g = set->gemms[0];
  EXPECT_EQ(g.op, "attn_pre_proj");
  // head_dim 16; tp 2 holds 2 query heads and 1 KV head.
  EXPECT_EQ(std::tie(g.m, g.n, g.k), std::make_tuple(int64_t{8}, int64_t{(2 + 2) * 16}, int64_t{64}));
  EXPECT_DOUBLE_EQ(g.time_s, 1.5e-3);
  EXPECT_EQ(g.origin.file, path);
  EXPECT_EQ(g.origin.row, 2);
  EXPECT_DOUBLE_EQ(set->elementwise[0].bytes, 3.0 * 8 * 64 * 2);
}

TEST(CalibrationReaderErrors, ComputeWrongHeader) {
  const std::string path =
      WriteFile(TempDir(), "mlp.csv", "time_stats.add.median,n_heads,n_kv_head\n1,2,3\n");
  auto set = ReadVidurCompute(path);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(
      StartsWith(Error(set.status()), path + ":1: the header has no column 'n_head'; expected columns "));
}

TEST(CalibrationReaderErrors, ComputeNonNumericMedian) {
  const std::string path =
      WriteFile(TempDir(), "mlp.csv",
                std::string(kComputeHeader) +
                    "0.5,1.5,0.25,4,2,64,128,100,False,8,2\n0.5,fast,0.25,4,2,64,128,100,True,8,2\n");
  auto set = ReadVidurCompute(path);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(
      Error(set.status()),
      path + ":3: time_stats.attn_pre_proj.median is 'fast'; expected a positive number of milliseconds");
  WriteFile(TempDir(), "mlp.csv", std::string(kComputeHeader) + "0.5,,0.25,4,2,64,128,100,False,8,2\n");
  set = ReadVidurCompute(path);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(StartsWith(Error(set.status()), path + ":2: time_stats.attn_pre_proj.median is ''"));
}

TEST(CalibrationReaderErrors, ComputeTensorParallelMustDivideHeads) {
  const std::string path = WriteFile(TempDir(), "mlp.csv",
                                     std::string(kComputeHeader) + "0.5,1.5,0.25,4,2,64,128,100,False,8,3\n");
  auto set = ReadVidurCompute(path);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(Error(set.status()), path +
                                     ":2: num_tensor_parallel_workers 3 does not divide n_head 4; "
                                     "expected a degree that splits the heads evenly");
}

TEST(CalibrationReaderErrors, ComputeBadShapeFields) {
  const std::string dir = TempDir();
  const std::string path =
      WriteFile(dir, "mlp.csv", std::string(kComputeHeader) + "0.5,1.5,0.25,4,2,64,128,100,yes,8,2\n");
  auto set = ReadVidurCompute(path);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(Error(set.status()), path + ":2: use_gated_mlp is 'yes'; expected True or False");
  WriteFile(dir, "mlp.csv", std::string(kComputeHeader) + "0.5,1.5,0.25,0,2,64,128,100,True,8,2\n");
  set = ReadVidurCompute(path);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(Error(set.status()), path + ":2: n_head is '0'; expected an integer from 1 to 2147483647");
  WriteFile(dir, "mlp.csv", std::string(kComputeHeader) + "0.5,1.5,0.25,4,2,64,128,100,True,8\n");
  set = ReadVidurCompute(path);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(Error(set.status()), path + ":2: the row has 10 fields; expected 11 as in the header");
  EXPECT_EQ(ReadVidurCompute(dir + "/missing.csv").status().code(), absl::StatusCode::kNotFound);
}

TEST(CalibrationReaderErrors, NetworkWrongHeaderAndRows) {
  const std::string dir = TempDir();
  const std::string header =
      ",time_stats.all_reduce.median,rank,num_workers,size,collective,devices_per_node,max_devices_per_"
      "node\n";
  const std::string path = WriteFile(dir, "all_reduce.csv", ",time_stats.all_gather.median,rank\n0,1,0\n");
  auto samples = ReadVidurNetwork(path);
  ASSERT_FALSE(samples.ok());
  EXPECT_TRUE(
      StartsWith(Error(samples.status()),
                 path + ":1: the header has no time_stats.<collective>.median column; expected columns "));
  WriteFile(dir, "all_reduce.csv",
            header +
                "0,0.5,0,4,1024,all_reduce,4,8\n1,0.5,1,4,1024,all_reduce,4,8\n"
                "2,0.5,0,4,1024,send_recv,4,8\n");
  samples = ReadVidurNetwork(path);
  ASSERT_FALSE(samples.ok());
  EXPECT_EQ(Error(samples.status()),
            path + ":4: collective is 'send_recv'; expected 'all_reduce' as in the header");
  WriteFile(dir, "all_reduce.csv", header + "0,0.5,0,4,1024,all_reduce,4,8\n1,0.5,1,4,1024,all_reduce,4,8\n");
  samples = ReadVidurNetwork(path);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 1u);  // rank 1's view of the same call is dropped
  EXPECT_EQ((*samples)[0].node, std::filesystem::path(dir).filename().string());
  EXPECT_DOUBLE_EQ((*samples)[0].time_s, 0.5e-3);
  WriteFile(dir, "all_reduce.csv", header + "0,0.5,0,6,1024,all_reduce,4,8\n");
  samples = ReadVidurNetwork(path);
  ASSERT_FALSE(samples.ok());
  EXPECT_EQ(Error(samples.status()),
            path + ":2: devices_per_node 4 does not divide num_workers 6; expected whole nodes");
}

TEST(CalibrationReaderErrors, SplitwiseUnknownHardwareAndBadTimes) {
  const std::string dir = TempDir();
  const std::string header =
      "model,hardware,prompt_size,batch_size,token_size,peak_power,average_power,prompt_time,token_time,"
      "e2e_time,tensor_parallel\n";
  const std::string path = WriteFile(dir, "perf.csv",
                                     header +
                                         "llama2-70b,h100-80gb,512,1,128,0,0,80,30,4000,2\n"
                                         "llama2-70b,,512,1,128,0,0,80,30,4000,2\n");
  // Names are mapped to the catalog later (ResolveSplitwiseHardware, tests/end_to_end_readers_test.cc); the
  // reader refuses only a missing one.
  auto samples = ReadSplitwise(path);
  ASSERT_FALSE(samples.ok());
  EXPECT_EQ(Error(samples.status()), path + ":3: hardware is empty; expected a hardware name such as 'h100-80gb'");
  WriteFile(dir, "perf.csv", header + "llama2-70b,h100-80gb,512,1,128,0,0,80,-1,4000,2\n");
  samples = ReadSplitwise(path);
  ASSERT_FALSE(samples.ok());
  EXPECT_EQ(Error(samples.status()),
            path + ":2: token_time is '-1'; expected a positive number of milliseconds");
  WriteFile(dir, "perf.csv", "model,hardware,prompt_size\nllama2-70b,h100-80gb,512\n");
  samples = ReadSplitwise(path);
  ASSERT_FALSE(samples.ok());
  EXPECT_TRUE(
      StartsWith(Error(samples.status()),
                 path + ":1: the header has no column 'batch_size'; expected columns model, hardware"));
  WriteFile(dir, "perf.csv", "");
  samples = ReadSplitwise(path);
  ASSERT_FALSE(samples.ok());
  EXPECT_TRUE(StartsWith(Error(samples.status()), path + ":1: the file is empty; expected columns model"));
}

}  // namespace
}  // namespace gpufleet
