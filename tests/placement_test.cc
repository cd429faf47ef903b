// Placement policies: first fit unchanged (checked against the former implementation on random
// deployments), pack's fewest leaves, spread's distinct leaves and racks, network_aware's co-location of
// decode with prefill, TP groups spanning whole nodes, and unplaceable deployments as located errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::PlaceOn;
using testing::RealCatalog;

const NodeSpec* Node(const std::string& name) { return RealCatalog().FindNode(name); }

ReplicaGroup Group(const std::string& gpu, int tp, int replicas, const std::string& role = "mixed") {
  ReplicaGroup g;
  g.name = absl::StrCat(gpu, "-tp", tp, "-", role);
  g.gpu = RealCatalog().FindGpu(gpu);
  g.tensor_parallel = tp;
  g.replicas = replicas;
  g.role = role;
  return g;
}

FabricSpec Leaves(int64_t nodes_per_leaf) {
  FabricSpec f;
  f.topology = "leaf-spine";
  f.nodes_per_leaf = nodes_per_leaf;
  return f;
}

std::set<int> LeavesOf(const std::vector<ReplicaPlacement>& placed, int group, int64_t nodes_per_leaf) {
  std::set<int> leaves;
  for (const ReplicaPlacement& p : placed) {
    if (p.group == group) leaves.insert(p.node_index / static_cast<int>(nodes_per_leaf));
  }
  return leaves;
}

// The first-fit placement gpufleet had before placement policies, kept here as the reference.
std::vector<std::vector<int>> FormerFirstFit(const ClusterLayout& layout, const std::vector<ReplicaGroup>& deployment) {
  std::vector<int> used(layout.nodes.size(), 0);
  std::vector<std::vector<int>> out;
  for (const ReplicaGroup& group : deployment) {
    for (int r = 0; r < group.replicas; ++r) {
      bool placed = false;
      for (size_t n = 0; n < layout.nodes.size() && !placed; ++n) {
        const NodeSpec& node = *layout.nodes[n].node;
        if (node.gpu != group.gpu->name || node.gpus_per_node - used[n] < group.tensor_parallel) continue;
        std::vector<int> gpus;
        for (int k = 0; k < group.tensor_parallel; ++k) gpus.push_back(layout.nodes[n].first_gpu + used[n] + k);
        used[n] += group.tensor_parallel;
        out.push_back(gpus);
        placed = true;
      }
      if (!placed) return {};
    }
  }
  return out;
}

TEST(Placement, FirstFitIsTheFormerPlacement) {
  // Random mixed clusters and deployments (a fixed linear congruential sequence: the same cases every run).
  uint64_t state = 12345;
  auto next = [&](int n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state >> 33) % static_cast<uint64_t>(n));
  };
  const std::vector<std::string> nodes = {"DGX-H100", "aws-p5.48xlarge", "8xL4-server", "aws-g6.xlarge", "2xA40-nvlink"};
  int compared = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<NodeGroup> cluster;
    for (int i = 0, groups = 1 + next(4); i < groups; ++i) cluster.push_back({Node(nodes[next(5)]), 1 + next(3)});
    std::vector<ReplicaGroup> deployment;
    for (int i = 0, groups = 1 + next(3); i < groups; ++i) {
      const NodeSpec& on = *cluster[next(static_cast<int>(cluster.size()))].node;
      deployment.push_back(Group(on.gpu, 1 << next(4), 1 + next(6)));
    }
    const std::vector<std::vector<int>> former = FormerFirstFit(LayoutCluster(cluster), deployment);
    auto placed = PlaceOn(cluster, deployment);
    if (former.empty()) continue;  // the former placement refused it (spanning nodes may now accept it)
    ASSERT_TRUE(placed.ok()) << placed.status();
    ASSERT_EQ(placed->size(), former.size());
    for (size_t i = 0; i < former.size(); ++i) {
      EXPECT_EQ((*placed)[i].gpus, former[i]) << "trial " << trial << " replica " << i;
      EXPECT_EQ((*placed)[i].replica, static_cast<int>(i));
      EXPECT_EQ((*placed)[i].nodes, std::vector<int>{(*placed)[i].node_index});
    }
    ++compared;
  }
  EXPECT_GT(compared, 100);
}

TEST(Placement, TensorParallelSpansWholeConsecutiveNodes) {
  auto placed = PlaceOn({{Node("DGX-H100"), 2}}, {Group("H100-SXM-80GB", 16, 1)});
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ((*placed)[0].nodes, (std::vector<int>{0, 1}));
  EXPECT_EQ((*placed)[0].gpus.size(), 16u);
  EXPECT_EQ((*placed)[0].gpus.back(), 15);
  // A node inside that can hold it wins over spanning: TP8 goes to the 8-GPU node, not over two 4-GPU ones.
  placed = PlaceOn({{Node("aws-g5.12xlarge"), 2}, {Node("aws-g5.48xlarge"), 1}}, {Group("A10G", 8, 2)});
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ((*placed)[0].nodes, (std::vector<int>{2}));
  EXPECT_EQ((*placed)[1].nodes, (std::vector<int>{0, 1}));
  // Not consecutive nodes of one type: refused, naming the constraint.
  placed = PlaceOn({{Node("DGX-H100"), 1}, {Node("aws-p5.48xlarge"), 1}}, {Group("H100-SXM-80GB", 16, 1)});
  ASSERT_FALSE(placed.ok());
  EXPECT_NE(std::string(placed.status().message()).find("no run of consecutive nodes of one type holds it whole"),
            std::string::npos)
      << placed.status();
}

TEST(Placement, PackUsesTheFewestLeaves) {
  // Leaf 0: a DGX and an L4 server; leaf 1: two DGX. First fit takes the first DGX of each leaf; pack opens
  // the leaf with the most free H100s and keeps both replicas under it.
  const std::vector<NodeGroup> cluster = {{Node("DGX-H100"), 1}, {Node("8xL4-server"), 1}, {Node("DGX-H100"), 2}};
  const std::vector<ReplicaGroup> deployment = {Group("H100-SXM-80GB", 8, 2)};
  auto first_fit = PlaceOn(cluster, deployment, Leaves(2));
  auto pack = PlaceOn(cluster, deployment, Leaves(2), "pack");
  ASSERT_TRUE(first_fit.ok() && pack.ok());
  EXPECT_EQ(LeavesOf(*first_fit, 0, 2), (std::set<int>{0, 1}));
  EXPECT_EQ(LeavesOf(*pack, 0, 2), (std::set<int>{1}));
  // Inside open leaves it fills used nodes first: the TP2s join the TP4's node.
  auto filled = PlaceOn({{Node("DGX-H100"), 4}}, {Group("H100-SXM-80GB", 4, 1), Group("H100-SXM-80GB", 2, 2)}, Leaves(2),
                        "pack");
  ASSERT_TRUE(filled.ok());
  for (const ReplicaPlacement& p : *filled) EXPECT_EQ(p.node_index, 0);
}

TEST(Placement, SpreadPutsAGroupOnDistinctLeavesOrRacks) {
  const std::vector<NodeGroup> cluster = {{Node("DGX-H100"), 8}};
  const std::vector<ReplicaGroup> deployment = {Group("H100-SXM-80GB", 4, 4), Group("H100-SXM-80GB", 2, 2)};
  auto spread = PlaceOn(cluster, deployment, Leaves(2), "spread");
  ASSERT_TRUE(spread.ok()) << spread.status();
  EXPECT_EQ(LeavesOf(*spread, 0, 2), (std::set<int>{0, 1, 2, 3}));
  // The next group starts where the last one stopped.
  EXPECT_EQ(LeavesOf(*spread, 1, 2), (std::set<int>{0, 1}));
  auto first_fit = PlaceOn(cluster, deployment, Leaves(2));
  EXPECT_EQ(LeavesOf(*first_fit, 0, 2), (std::set<int>{0}));
  // Power racks of 4 servers (the default domain when racks are set): the group alternates racks.
  auto racks = PlaceOn(cluster, deployment, Leaves(2), "spread", 4);
  ASSERT_TRUE(racks.ok());
  EXPECT_EQ(LeavesOf(*racks, 0, 4), (std::set<int>{0, 1}));
  EXPECT_EQ((*racks)[0].node_index / 4, 0);
  EXPECT_EQ((*racks)[1].node_index / 4, 1);
  // Over nodes in a star: one replica per server.
  auto nodes = PlaceOn(cluster, deployment, FabricSpec{}, "spread");
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(LeavesOf(*nodes, 0, 1), (std::set<int>{0, 1, 2, 3}));
  // Racks asked for without racks: refused at the parameter.
  auto no_racks = PlaceOn(cluster, deployment, Leaves(2), "{type: spread, over: racks}");
  ASSERT_FALSE(no_racks.ok());
  EXPECT_EQ(no_racks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(no_racks.status().message()).find("placement.over is 'racks' but the scenario has no power racks"),
            std::string::npos);
}

TEST(Placement, NetworkAwareCoLocatesDecodeWithPrefill) {
  // Four DGX H100, two per leaf. Decode listed first: first fit gives the decode replicas leaf 0 and the
  // prefill replicas leaf 1, so every KV cache would cross the spine.
  const std::vector<NodeGroup> cluster = {{Node("DGX-H100"), 4}};
  const std::vector<ReplicaGroup> deployment = {Group("H100-SXM-80GB", 8, 2, "decode"),
                                                Group("H100-SXM-80GB", 8, 2, "prefill")};
  auto first_fit = PlaceOn(cluster, deployment, Leaves(2));
  ASSERT_TRUE(first_fit.ok());
  EXPECT_EQ(LeavesOf(*first_fit, 0, 2), (std::set<int>{0}));
  EXPECT_EQ(LeavesOf(*first_fit, 1, 2), (std::set<int>{1}));
  auto aware = PlaceOn(cluster, deployment, Leaves(2), "network_aware");
  ASSERT_TRUE(aware.ok()) << aware.status();
  // One prefill and one decode replica under each leaf; replicas keep deployment order (decode first).
  EXPECT_EQ(LeavesOf(*aware, 1, 2), (std::set<int>{0, 1}));
  EXPECT_EQ(LeavesOf(*aware, 0, 2), (std::set<int>{0, 1}));
  EXPECT_EQ((*aware)[0].group, 0);
  EXPECT_EQ((*aware)[0].replica, 0);
  // Two leaves of three servers with one TP8 prefill replica each: the two TP4 decode replicas go one
  // under each.
  auto mixed = PlaceOn({{Node("DGX-H100"), 6}}, {Group("H100-SXM-80GB", 8, 2, "prefill"), Group("H100-SXM-80GB", 4, 2, "decode")},
                       Leaves(3), "network_aware");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(LeavesOf(*mixed, 0, 3), (std::set<int>{0, 1}));
  EXPECT_EQ(LeavesOf(*mixed, 1, 3), (std::set<int>{0, 1}));
}

constexpr char kScenario[] = R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 4}]}
model: Llama-2-7B
deployment:
  - {name: small, gpu: H100-SXM-80GB, tensor_parallel: 4, replicas: 4}
  - {name: big, gpu: H100-SXM-80GB, tensor_parallel: 16, replicas: 1}
workload:
  synthetic:
    rate_rps: 5
    prompt_tokens: {dist: fixed, value: 512}
    output_tokens: {dist: fixed, value: 128}
  max_requests: 20
)";

TEST(Placement, ScenarioKeyAndLocatedErrors) {
  const std::string fabric = "fabric: {topology: leaf-spine, nodes_per_leaf: 2}\n";
  auto s = LoadScenarioFromString(kScenario + fabric + "placement: pack\n", "p.yaml", ".", RealCatalog());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->placement.type, "pack");
  // Spread over nodes gives each server one of the four TP4 replicas: no two whole free servers are left
  // for the TP16, which is the error, at that group.
  s = LoadScenarioFromString(kScenario + fabric + "placement: {type: spread, over: nodes}\n", "p.yaml", ".", RealCatalog());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message())
                .rfind("p.yaml:6:5: deployment 'big' asks for 1 replicas x TP16 = 16 H100-SXM-80GB GPUs; the cluster "
                       "has 32 of them and only 0 replica(s) fit after earlier groups (placement: spread)",
                       0),
            0u)
      << s.status();
  s = LoadScenarioFromString(kScenario + fabric + "placement: {type: spread, over: racks}\n", "p.yaml", ".", RealCatalog());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string(s.status().message()).rfind("p.yaml:14:33: placement.over is 'racks'", 0), 0u) << s.status();
  s = LoadScenarioFromString(std::string(kScenario) + "placement: {type: packk}\n", "p.yaml", ".", RealCatalog());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("placement.type 'packk' is not a known policy (did you mean 'pack'?)"),
            std::string::npos)
      << s.status();
  s = LoadScenarioFromString(std::string(kScenario) + "placement: {type: pack, over: leaves}\n", "p.yaml", ".", RealCatalog());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.status().message()).find("unknown key 'over' in placement"), std::string::npos) << s.status();
}

TEST(Placement, PoliciesCommandListsThem) {
  auto r = testing::RunGpufleet("policies");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("placement policies (scenario key: placement.type):"), std::string::npos) << r.output;
  for (const char* name : {"first_fit", "pack", "spread", "network_aware"}) {
    EXPECT_NE(r.output.find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace gpufleet
