// `cluster: auto` (or no cluster): the cheapest catalog nodes that hold the deployment under first-fit
// placement, per GPU type, chosen deterministically; explicit clusters unchanged.
#include "sim/scenario/cluster_sizing.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "models/cost_model.h"
#include "sim/platform/placement.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

std::string Text(const std::string& cluster, const std::string& deployment, const std::string& extra = "") {
  return cluster + "model: Llama-2-7B\ndeployment:\n" + deployment + extra +
         "workload:\n  synthetic:\n    rate_rps: 5\n    prompt_tokens: {dist: fixed, value: 256}\n"
         "    output_tokens: {dist: fixed, value: 32}\n  max_requests: 40\n";
}

absl::StatusOr<Scenario> Load(const std::string& text) {
  return LoadScenarioFromString(text, "s.yaml", ".", testing::RealCatalog());
}

// The cheapest price of `count` nodes of any catalog node type with `gpu` and at least `min_gpus` GPUs.
double CheapestOf(const std::string& gpu, int min_gpus, int replicas_of_min, const PriceSpec& prices) {
  double best = 1e300;
  for (const auto& [name, node] : testing::RealCatalog().nodes()) {
    if (node.gpu != gpu || node.gpus_per_node < min_gpus) continue;
    const int per_node = node.gpus_per_node / min_gpus;
    const int count = (replicas_of_min + per_node - 1) / per_node;
    best = std::min(best, PriceFleet({{&node, count}}, testing::RealCatalog(), prices).usd_per_hour);
  }
  return best;
}

TEST(ClusterAuto, TwoTp4H100ReplicasShareOneEightGpuNode) {
  const std::string dep = "  - {gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 2}\n";
  for (const std::string& cluster : {std::string("cluster: auto\n"), std::string()}) {
    auto s = Load(Text(cluster, dep));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(s->cluster_auto);
    ASSERT_EQ(s->cluster.size(), 1u);
    EXPECT_EQ(s->cluster[0].node->gpu, "H100-SXM-80GB");
    EXPECT_EQ(s->cluster[0].node->gpus_per_node, 8);
    EXPECT_EQ(s->cluster[0].count, 1);
    EXPECT_DOUBLE_EQ(PriceFleet(s->cluster, testing::RealCatalog(), s->prices).usd_per_hour,
                     CheapestOf("H100-SXM-80GB", 4, 2, s->prices));
  }
  // A third replica needs a second node.
  auto three = Load(Text("cluster: auto\n", "  - {gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 3}\n"));
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->cluster[0].count, 2);
}

TEST(ClusterAuto, ChoosesTheCheapestNodeTypeAndHonoursPriceOverrides) {
  // One L4 replica: a one-GPU instance is cheaper than any eight-GPU server.
  auto one = Load(Text("cluster: auto\n", "  - {gpu: L4}\n"));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->cluster[0].node->gpus_per_node, 1);
  EXPECT_DOUBLE_EQ(PriceFleet(one->cluster, testing::RealCatalog(), one->prices).usd_per_hour,
                   CheapestOf("L4", 1, 1, one->prices));
  // The scenario's prices are those compared.
  auto cheap = Load(Text("cluster: auto\n", "  - {gpu: H100-SXM-80GB, replicas: 2}\n",
                             "prices: {node_usd_per_hour: {DGX-H100: 1}}\n"));
  ASSERT_TRUE(cheap.ok()) << cheap.status();
  EXPECT_EQ(cheap->cluster[0].node->name, "DGX-H100");
}

TEST(ClusterAuto, MixedGpuTypesGetOneNodeGroupEachInDeploymentOrder) {
  auto s = Load(Text("cluster: auto\n",
                         "  - {gpu: A100-SXM-80GB, tensor_parallel: 2, replicas: 5}\n"
                         "  - {gpu: H100-SXM-80GB, replicas: 3}\n"
                         "  - {gpu: A100-SXM-80GB, tensor_parallel: 4, replicas: 1}\n"));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->cluster.size(), 2u);
  EXPECT_EQ(s->cluster[0].node->gpu, "A100-SXM-80GB");
  EXPECT_EQ(s->cluster[1].node->gpu, "H100-SXM-80GB");
  // A100: 5 x TP2 + 1 x TP4 = 14 GPUs, first fit on 8-GPU nodes: 2 nodes.
  EXPECT_EQ(s->cluster[0].node->gpus_per_node, 8);
  EXPECT_EQ(s->cluster[0].count, 2);
  EXPECT_TRUE(testing::PlaceOn(s->cluster, s->deployment).ok());
}

TEST(ClusterAuto, FirstFitCountMatchesPlacement) {
  // Groups of mixed sizes: the count is one that placement accepts, and one node less it refuses.
  auto s = Load(Text("cluster: auto\n",
                         "  - {gpu: H100-SXM-80GB, replicas: 3}\n"
                         "  - {gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 2}\n"
                         "  - {gpu: H100-SXM-80GB, tensor_parallel: 2, replicas: 3}\n"));
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->cluster.size(), 1u);
  EXPECT_TRUE(testing::PlaceOn(s->cluster, s->deployment).ok());
  std::vector<NodeGroup> fewer = s->cluster;
  --fewer[0].count;
  EXPECT_FALSE(testing::PlaceOn(fewer, s->deployment).ok()) << "not the smallest count";
}

TEST(ClusterAuto, TpLargerThanEveryNodeIsALocatedError) {
  auto s = Load(Text("cluster: auto\n", "  - {gpu: H100-SXM-80GB, tensor_parallel: 16}\n"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.status().message()),
            "s.yaml:4:5: deployment 'group0' has tensor_parallel 16 but the largest H100-SXM-80GB node type of the "
            "catalog holds 8 GPUs (cluster: auto keeps a TP group inside one node); expected a GPU and tensor_parallel that one "
            "catalog node holds (gpufleet catalog nodes), or an explicit cluster");
  auto bad = Load(Text("cluster: big\n", "  - {gpu: H100-SXM-80GB}\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()),
            "s.yaml:1:10: cluster is 'big'; expected auto, or a mapping {nodes: [{type: NODE, count: N}, ...]}");
}

TEST(ClusterAuto, DeterministicAndExplicitClustersUnchanged) {
  const std::string dep = "  - {gpu: H100-SXM-80GB, tensor_parallel: 2, replicas: 7}\n  - {gpu: L4, replicas: 9}\n";
  auto a = Load(Text("cluster: auto\n", dep));
  auto b = Load(Text("cluster: auto\n", dep));
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  ASSERT_EQ(a->cluster.size(), b->cluster.size());
  for (size_t i = 0; i < a->cluster.size(); ++i) {
    EXPECT_EQ(a->cluster[i].node, b->cluster[i].node);
    EXPECT_EQ(a->cluster[i].count, b->cluster[i].count);
  }
  auto fixed = Load(Text("cluster: {nodes: [{type: DGX-H100, count: 2}]}\n", "  - {gpu: H100-SXM-80GB}\n"));
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_FALSE(fixed->cluster_auto);
  ASSERT_EQ(fixed->cluster.size(), 1u);
  EXPECT_EQ(fixed->cluster[0].node->name, "DGX-H100");
  EXPECT_EQ(fixed->cluster[0].count, 2);
}

TEST(ClusterAuto, ReportsShowTheChosenNodes) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(
      dir, "s.yaml", "seed: 1\n" + Text("cluster: auto\n", "  - {gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 2}\n"));
  auto json = testing::RunGpufleet("simulate " + path + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const auto j = nlohmann::json::parse(json.output);
  EXPECT_EQ(j["cluster_auto"], true);
  ASSERT_EQ(j["cost_breakdown"].size(), 1u);
  EXPECT_EQ(j["cost_breakdown"][0]["gpu"], "H100-SXM-80GB");
  EXPECT_EQ(j["cost_breakdown"][0]["count"], 1);
  EXPECT_EQ(j["gpus_total"], 8);
  auto table = testing::RunGpufleet("simulate " + path);
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("GPUs: 8 in cluster (sized automatically, nodes below)"), std::string::npos) << table.output;
  // --set cluster=auto on a scenario with an explicit cluster.
  auto set = testing::RunGpufleet("simulate " + testing::kQuickstart + " --check --set cluster=auto", true);
  EXPECT_EQ(set.exit_code, 0) << set.output;
}

}  // namespace
}  // namespace gpufleet
