// Disaggregated serving: prefill replicas hand requests to decode replicas, whose KV caches travel the
// fabric as SimGrid comms. End-to-end runs (one SimGrid engine per TEST: ctest runs each in its own
// process) and the decode-target policies' choices.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "policies/transfer/decode_target.h"
#include "sim/metrics/summary.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

// Llama-2-70B on two DGX-H100: prefill replicas fill node 0, decode replicas node 1 (first fit), so
// every cache crosses both nodes' NICs (400 GB/s one way each).
std::string TwoNodeScenario(const std::string& trace, int prefill_tp, int prefill_replicas, int decode_tp,
                            int decode_replicas, const std::string& extra = "") {
  return absl::StrCat(R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 2}]}
model: Llama-2-70B
deployment:
  - {name: prefill, gpu: H100-SXM-80GB, tensor_parallel: )", prefill_tp, ", replicas: ", prefill_replicas,
                      R"(, role: prefill, max_batched_tokens: 8192, scheduler: vllm}
  - {name: decode, gpu: H100-SXM-80GB, tensor_parallel: )", decode_tp, ", replicas: ", decode_replicas,
                      R"(, role: decode, max_batched_tokens: 8192, scheduler: vllm}
router: least_outstanding_tokens
workload: {trace: {path: )", trace, R"(, format: native}}
)", extra);
}

absl::StatusOr<testing::RunAndRows> RunText(const std::string& text, Scenario* out = nullptr) {
  auto s = LoadScenarioFromString(text, "disagg.yaml", ".", RealCatalog());
  if (!s.ok()) return s.status();
  if (out != nullptr) *out = *s;
  return testing::SimulateWithRows(*s, RealCatalog());
}

constexpr double kNicBps = 400e9;  // DGX-H100 network_gbps, one way

double KvBytes(uint32_t prompt) { return RealCatalog().FindLlm("Llama-2-70B")->KvBytesPerToken() * prompt; }

TEST(Disaggregation, OneTransferAloneTakesLatencyPlusSizeOverBandwidth) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "t.csv", "arrival_s,prompt_tokens,output_tokens\n0,2000,4\n");
  auto run = RunText(TwoNodeScenario(dir + "/t.csv", 8, 1, 8, 1));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->rows.size(), 1u);
  const RequestRow& r = run->rows[0];
  ASSERT_EQ(r.status, RequestRow::kCompleted);
  // Eight flows, one per rank pair, share the sending node's NIC: together they move at its bandwidth.
  const double ideal = KvBytes(2000) / kNicBps;
  EXPECT_GE(r.kv_transfer_s, ideal * (1 - 1e-6));
  EXPECT_LE(r.kv_transfer_s, ideal + 50e-6) << "latency of a few hops, not more";
  EXPECT_EQ(run->transfers.transfers, 1);
  EXPECT_NEAR(run->transfers.bytes, KvBytes(2000), 8);
}

TEST(Disaggregation, LayerwiseOverlapLeavesOnlyTheLastLayerAfterThePrefill) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "t.csv", "arrival_s,prompt_tokens,output_tokens\n0,2000,4\n");
  auto run = RunText(TwoNodeScenario(dir + "/t.csv", 8, 1, 8, 1,
                                     "disaggregation: {decode_target: least_loaded, overlap: layerwise}\n"));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->rows.size(), 1u);
  // The other 79 layers streamed during the ~0.1 s prefill and landed long before its end; what the
  // request waits for is the last layer's 1/80 of the cache, and the latency.
  const double last_layer = KvBytes(2000) / 80 / kNicBps;
  EXPECT_GE(run->rows[0].kv_transfer_s, last_layer * (1 - 1e-6));
  EXPECT_LE(run->rows[0].kv_transfer_s, last_layer + 50e-6);
  EXPECT_NEAR(run->transfers.bytes, KvBytes(2000), 8) << "the whole cache still moved";
}

TEST(Disaggregation, TwoTransfersOnOneNicGetHalfEach) {
  const std::string dir = testing::TempDir();
  // Two equal prompts at once on two prefill replicas of node 0: their caches leave together.
  testing::WriteFile(dir, "t.csv", "arrival_s,prompt_tokens,output_tokens\n0,2000,4\n0,2000,4\n");
  auto run = RunText(TwoNodeScenario(dir + "/t.csv", 4, 2, 4, 2));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->rows.size(), 2u);
  const double shared = KvBytes(2000) / (kNicBps / 2);
  for (const RequestRow& r : run->rows) {
    ASSERT_EQ(r.status, RequestRow::kCompleted);
    EXPECT_GE(r.kv_transfer_s, shared * (1 - 1e-6));
    EXPECT_LE(r.kv_transfer_s, shared + 50e-6);
  }
  // Both crossed node 0's NIC, whose peak use was its whole bandwidth.
  bool saw_nic = false;
  for (const LinkStats& l : run->links) {
    if (l.name.find("n0-") == 0 && l.name.find("nic") != std::string::npos && l.name.find("UP") != std::string::npos) {
      saw_nic = true;
      EXPECT_NEAR(l.bytes, 2 * KvBytes(2000), 16);
      EXPECT_NEAR(l.peak_util, 1.0, 1e-6);
    }
  }
  EXPECT_TRUE(saw_nic) << "node 0's NIC carried the caches; links: " << [&] {
    std::string names;
    for (const LinkStats& l : run->links) names += l.name + " ";
    return names;
  }();
}

TEST(Disaggregation, AnOversubscribedLeafSpineSlowsCachesCrossingTheSpine) {
  const std::string dir = testing::TempDir();
  testing::WriteFile(dir, "t.csv", "arrival_s,prompt_tokens,output_tokens\n0,2000,4\n0,2000,4\n");
  // Four DGX-H100, two per leaf: prefill replicas on leaf 0, decode replicas on leaf 1. At 2:1 a leaf's
  // uplink carries (2 x 400) / 2 = 400 GB/s, so the two caches leaving at once share it: 200 GB/s each,
  // half of what their own NICs would give them under one leaf or on a fat-tree.
  auto run = RunText(absl::StrCat(R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 4}]}
fabric: {topology: leaf-spine, nodes_per_leaf: 2, oversubscription: 2}
model: Llama-2-70B
deployment:
  - {name: prefill, gpu: H100-SXM-80GB, tensor_parallel: 8, replicas: 2, role: prefill, scheduler: vllm}
  - {name: decode, gpu: H100-SXM-80GB, tensor_parallel: 8, replicas: 2, role: decode, scheduler: vllm}
disaggregation: {decode_target: least_loaded}
workload: {trace: {path: )", dir, R"(/t.csv, format: native}}
)"));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->rows.size(), 2u);
  std::set<int> decodes;
  const double shared = KvBytes(2000) / (kNicBps / 2);
  for (const RequestRow& r : run->rows) {
    ASSERT_EQ(r.status, RequestRow::kCompleted);
    decodes.insert(r.replica);
    EXPECT_GE(r.kv_transfer_s, shared * (1 - 1e-6));
    EXPECT_LE(r.kv_transfer_s, shared + 50e-6);
  }
  EXPECT_EQ(decodes.size(), 2u) << "a cache on its way counts in its decode replica's load";
  for (const LinkStats& l : run->links) {
    if (l.name == "leaf0-uplink_UP") {
      EXPECT_NEAR(l.bytes, 2 * KvBytes(2000), 16);
    }
  }
}

TEST(Disaggregation, EveryRequestCompletesOnceAndTtftIncludesTheTransfer) {
  Scenario s;
  auto run = RunText(R"(seed: 7
horizon_s: 60
cluster: {nodes: [{type: DGX-H100, count: 2}]}
model: Llama-2-7B
deployment:
  - {name: prefill, gpu: H100-SXM-80GB, replicas: 3, role: prefill, max_batched_tokens: 4096, scheduler: vllm}
  - {name: decode, gpu: H100-SXM-80GB, replicas: 2, role: decode, max_batched_tokens: 4096, scheduler: sarathi}
  - {name: whole, gpu: H100-SXM-80GB, replicas: 1, max_batched_tokens: 4096}
disaggregation: {decode_target: most_free_kv}
workload:
  synthetic:
    arrival: poisson
    rate_rps: 30
    prompt_tokens: {dist: lognormal, median: 800, sigma: 0.8, max: 3500}
    output_tokens: {dist: lognormal, median: 120, sigma: 0.8, max: 500}
)", &s);
  ASSERT_TRUE(run.ok()) << run.status();
  std::vector<int> seen(run->rows.size(), 0);
  int64_t disaggregated = 0;
  double bytes = 0;
  for (const RequestRow& r : run->rows) {
    ASSERT_LT(r.id, seen.size());
    ASSERT_EQ(++seen[r.id], 1) << "request " << r.id << " has two rows";
    ASSERT_EQ(r.status, RequestRow::kCompleted) << r.id;
    if (r.kv_transfer_s >= 0) {
      ++disaggregated;
      bytes += RealCatalog().FindLlm("Llama-2-7B")->KvBytesPerToken() * r.prompt_tokens;
      EXPECT_GT(r.kv_transfer_s, 0) << r.id;
      EXPECT_GE(r.ttft_s, r.kv_transfer_s) << "TTFT includes the transfer, request " << r.id;
      const int group = run->replicas[static_cast<size_t>(r.replica)].group;
      EXPECT_EQ(s.deployment[static_cast<size_t>(group)].role, "decode") << "finished on a decode replica";
    } else if (r.output_tokens > 1) {
      const int group = run->replicas[static_cast<size_t>(r.replica)].group;
      EXPECT_EQ(s.deployment[static_cast<size_t>(group)].role, "mixed") << "only mixed replicas serve whole requests";
    }
  }
  EXPECT_EQ(static_cast<int64_t>(run->rows.size()), run->arrived);
  int64_t handed = 0, adopted = 0;
  for (const ReplicaResult& r : run->replicas) {
    handed += r.stats.handed_off;
    adopted += r.stats.adopted;
    if (s.deployment[static_cast<size_t>(r.group)].role == "decode") {
      EXPECT_EQ(r.stats.requests, r.stats.adopted) << "the router never sends arrivals to decode replicas";
    }
  }
  EXPECT_GT(disaggregated, 100);
  EXPECT_EQ(handed, disaggregated);
  EXPECT_EQ(adopted, disaggregated);
  EXPECT_EQ(run->transfers.transfers, disaggregated);
  EXPECT_NEAR(run->transfers.bytes, bytes, 1e-6 * bytes);
  RunSummary summary = Summarize(s, RealCatalog(), *run);
  ASSERT_TRUE(summary.kv.enabled);
  ASSERT_TRUE(summary.kv.share_of_ttft.has_value());
  EXPECT_GT(*summary.kv.share_of_ttft, 0);
  EXPECT_LT(*summary.kv.share_of_ttft, 1);
}

TEST(Disaggregation, RolesComeInPairsAndTheSectionNeedsThem) {
  const std::string base = R"(cluster: {nodes: [{type: DGX-H100, count: 1}]}
model: Llama-2-7B
workload: {synthetic: {rate_rps: 1, prompt_tokens: 10, output_tokens: 10}}
)";
  auto lone = LoadScenarioFromString(base + R"(deployment:
  - {gpu: H100-SXM-80GB, role: prefill}
)", "s.yaml", ".", RealCatalog());
  ASSERT_FALSE(lone.ok());
  EXPECT_NE(lone.status().message().find("s.yaml:5:"), std::string::npos) << lone.status();
  EXPECT_NE(lone.status().message().find("no group has role decode"), std::string::npos) << lone.status();

  auto stray = LoadScenarioFromString(base + R"(deployment:
  - {gpu: H100-SXM-80GB}
disaggregation: {decode_target: nearest}
)", "s.yaml", ".", RealCatalog());
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.status().message().find("no deployment group has role prefill"), std::string::npos) << stray.status();

  auto unknown = LoadScenarioFromString(base + R"(deployment:
  - {gpu: H100-SXM-80GB, role: prefill}
  - {gpu: H100-SXM-80GB, role: decode}
disaggregation: {decode_target: nearst}
)", "s.yaml", ".", RealCatalog());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("nearest"), std::string::npos) << "did you mean: " << unknown.status();

  auto overlap = LoadScenarioFromString(base + R"(deployment:
  - {gpu: H100-SXM-80GB, role: prefill}
  - {gpu: H100-SXM-80GB, role: decode}
disaggregation: {overlap: layer}
)", "s.yaml", ".", RealCatalog());
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.status().message().find("s.yaml:7:"), std::string::npos) << overlap.status();

  auto role = LoadScenarioFromString(base + R"(deployment:
  - {gpu: H100-SXM-80GB, role: prefil}
)", "s.yaml", ".", RealCatalog());
  ASSERT_FALSE(role.ok());
  EXPECT_NE(role.status().message().find("s.yaml:5:"), std::string::npos) << role.status();
}

// The decode-target policies on a view of four decode replicas.
size_t Choose(const std::string& type, const std::vector<ReplicaLoad>& loads, const std::vector<int>& hops = {}) {
  auto policy = testing::MakePolicy<DecodeTarget>(type);
  FleetView view(loads, 1, policy->Needs());
  return policy->Choose(Handoff{}, view, hops);
}

std::vector<ReplicaLoad> Loads() {
  // replica, group, outstanding requests, outstanding tokens, free blocks, total blocks
  return {{0, 0, 3, 900, 50, 100}, {1, 0, 1, 300, 20, 100}, {2, 0, 2, 300, 90, 100}, {3, 0, 5, 1500, 70, 100}};
}

TEST(DecodeTarget, LeastLoadedTakesTheFewestTokensLowestIndexOnTies) { EXPECT_EQ(Choose("least_loaded", Loads()), 1u); }

TEST(DecodeTarget, MostFreeKvTakesTheMostFreeBlocks) { EXPECT_EQ(Choose("most_free_kv", Loads()), 2u); }

TEST(DecodeTarget, NearestTakesTheFewestHopsThenTheLeastLoaded) {
  EXPECT_EQ(Choose("nearest", Loads(), {4, 4, 2, 2}), 2u);
  EXPECT_EQ(Choose("nearest", Loads(), {2, 4, 4, 2}), 0u) << "900 tokens beat 1500 among the nearest";
  PolicyConfig cfg;
  cfg.type = "nearest";
  cfg.file = "test";
  cfg.node["type"] = "nearest";
  cfg.node["max_extra_tokens"] = 500;
  auto bounded = DecodeTargetRegistry::Get().Create(cfg);
  ASSERT_TRUE(bounded.ok()) << bounded.status();
  FleetView view(Loads(), 1, (*bounded)->Needs());
  const std::vector<int> hops = {2, 4, 4, 2};
  EXPECT_EQ((*bounded)->Choose(Handoff{}, view, hops), 1u) << "the nearest is 600 tokens busier: the least loaded wins";
}

TEST(DecodeTarget, RoundRobinCycles) {
  auto policy = testing::MakePolicy<DecodeTarget>("round_robin");
  FleetView view(Loads(), 1, policy->Needs());
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(policy->Choose(Handoff{}, view, {}), i % 4);
}

}  // namespace
}  // namespace gpufleet
