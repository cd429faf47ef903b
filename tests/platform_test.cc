// The SimGrid platform: one host per GPU at its peak speed, NVLink-class links inside a node, NIC links
// between nodes; first-fit placement keeps tensor-parallel groups inside one node.
#include <gtest/gtest.h>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>
#include <xbt/log.h>

#include "models/perf_model.h"
#include "sim/platform/platform_builder.h"
#include "sim/platform/topology.h"
#include "sim/platform/tp_link.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

std::vector<NodeGroup> TwoDgxH100() { return {{RealCatalog().FindNode("DGX-H100"), 2}}; }

TEST(Platform, HostsLinksAndRoutes) {
  xbt_log_control_set("root.thres:critical");
  int argc = 1;
  char arg0[] = "test";
  char* argv[] = {arg0, nullptr};
  simgrid::s4u::Engine engine(&argc, argv);
  const Platform p = BuildPlatform(TwoDgxH100(), RealCatalog(), FabricSpec{});
  ASSERT_EQ(p.gpus.size(), 16u);
  const GpuSpec& h100 = *RealCatalog().FindGpu("H100-SXM-80GB");
  EXPECT_DOUBLE_EQ(p.gpus[0]->get_speed(), h100.fp16_tflops * 1e12);

  std::vector<simgrid::s4u::Link*> links;
  double latency = 0;
  p.gpus[0]->route_to(p.gpus[1], links, &latency);  // same node: up link of g0, down link of g1
  ASSERT_EQ(links.size(), 2u);
  const NodeSpec& dgx = *RealCatalog().FindNode("DGX-H100");
  EXPECT_DOUBLE_EQ(links[0]->get_bandwidth(), dgx.intra_gbps * 1e9);

  links.clear();
  p.gpus[0]->route_to(p.gpus[9], links, &latency);  // across nodes: both GPU links and both NICs
  ASSERT_EQ(links.size(), 4u);
  double min_bw = 1e30;
  for (auto* l : links) min_bw = std::min(min_bw, l->get_bandwidth());
  EXPECT_DOUBLE_EQ(min_bw, dgx.network_gbps * 1e9);
}

TEST(Platform, PlacementIsFirstFitInsideNodes) {
  std::vector<ReplicaGroup> groups(2);
  groups[0].gpu = RealCatalog().FindGpu("H100-SXM-80GB");
  groups[0].tensor_parallel = 4;
  groups[0].replicas = 3;
  groups[1].gpu = groups[0].gpu;
  groups[1].tensor_parallel = 2;
  groups[1].replicas = 2;
  auto placed = testing::PlaceOn(TwoDgxH100(), groups);
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(placed->size(), 5u);
  EXPECT_EQ((*placed)[0].gpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ((*placed)[1].gpus, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ((*placed)[2].gpus, (std::vector<int>{8, 9, 10, 11}));
  EXPECT_EQ((*placed)[3].gpus, (std::vector<int>{12, 13}));
  EXPECT_EQ((*placed)[4].gpus, (std::vector<int>{14, 15}));
  groups[1].replicas = 3;  // one GPU pair too many
  EXPECT_FALSE(testing::PlaceOn(TwoDgxH100(), groups).ok());
}

}  // namespace
}  // namespace gpufleet

namespace gpufleet {
namespace {

TEST(Topology, WidestPathsFollowTheFabric) {
  const ClusterLayout layout = LayoutCluster({{testing::RealCatalog().FindNode("DGX-H100"), 2},
                                              {testing::RealCatalog().FindNode("8xL4-server"), 1}});
  const FabricGraph graph(layout, testing::RealCatalog(), FabricSpec{});
  EXPECT_EQ(graph.Components(), 1);
  EXPECT_EQ(graph.vertex_count(), 1u + 3u + 24u);
  const NodeSpec& dgx = *testing::RealCatalog().FindNode("DGX-H100");
  const NodeSpec& l4 = *testing::RealCatalog().FindNode("8xL4-server");
  EXPECT_DOUBLE_EQ(graph.BottleneckGbps(0, 7), dgx.intra_gbps);
  EXPECT_DOUBLE_EQ(graph.BottleneckGbps(0, 8), dgx.network_gbps);
  EXPECT_DOUBLE_EQ(graph.BottleneckGbps(0, 16), std::min({dgx.intra_gbps, dgx.network_gbps, l4.network_gbps, l4.intra_gbps}));
}

TEST(Topology, TensorParallelLinkAcrossNodes) {
  const ClusterLayout layout = LayoutCluster({{testing::RealCatalog().FindNode("DGX-H100"), 4}});
  const NodeSpec& dgx = *testing::RealCatalog().FindNode("DGX-H100");
  FabricSpec fabric;
  fabric.topology = "leaf-spine";
  fabric.nodes_per_leaf = 2;
  fabric.oversubscription = 4;
  fabric.switch_latency_s = 0.13e-6;
  const FabricLayout leaves = LayoutFabric(layout, fabric);
  // Inside a node: the node's own fabric (the perf model's intra-node figure).
  const TensorParallelLink inside = TensorParallelLinkOf(layout, leaves, fabric, {0, 0, 0, {0, 1, 2, 3}, {0}});
  EXPECT_EQ(inside.gbps, 0);
  EXPECT_EQ(inside.latency_s, 0);
  // Two nodes under one leaf: each GPU's share of its NIC, two NICs and a switch per step.
  std::vector<int> sixteen(16);
  for (int i = 0; i < 16; ++i) sixteen[i] = i;
  const TensorParallelLink leaf = TensorParallelLinkOf(layout, leaves, fabric, {0, 0, 0, sixteen, {0, 1}});
  EXPECT_DOUBLE_EQ(leaf.gbps, dgx.network_gbps / 8);
  EXPECT_DOUBLE_EQ(leaf.latency_s, 2 * fabric.nic_latency_s + fabric.switch_latency_s);
  // Across the spine at 4:1: the uplink's share per GPU under the leaf, 2 x 400 / 4 / 16.
  for (int& g : sixteen) g += 8;
  const TensorParallelLink spine = TensorParallelLinkOf(layout, leaves, fabric, {0, 0, 1, sixteen, {1, 2}});
  EXPECT_DOUBLE_EQ(spine.gbps, 2 * dgx.network_gbps / 4 / 16);
  EXPECT_DOUBLE_EQ(spine.latency_s, 2 * fabric.nic_latency_s + 3 * fabric.switch_latency_s);
}

// TP8 over two 4-GPU servers runs its all-reduces over a share of their NICs: slower per iteration than
// TP8 inside one 8-GPU server of the same GPU, under either hardware model.
TEST(Topology, TensorParallelAcrossNodesIsSlowerPerIteration) {
  for (const char* model : {"calibrated", "roofline"}) {
    auto s = LoadScenarioFromString(absl::StrCat(R"(seed: 1
cluster: {nodes: [{type: aws-g5.12xlarge, count: 2}, {type: aws-g5.48xlarge, count: 1}]}
model: Llama-2-7B
perf_model: {type: )", model, R"(}
deployment: [{gpu: A10G, tensor_parallel: 8, replicas: 2, max_batched_tokens: 4096}]
workload:
  synthetic:
    rate_rps: 5
    prompt_tokens: {dist: fixed, value: 512}
    output_tokens: {dist: fixed, value: 128}
  max_requests: 10
)"),
                                    "tp.yaml", ".", testing::RealCatalog());
    ASSERT_TRUE(s.ok()) << s.status();
    const ClusterLayout layout = LayoutCluster(s->cluster);
    const FabricLayout fabric = LayoutFabric(layout, s->fabric);
    auto placed = PlaceReplicas({layout, fabric, 0, s->deployment}, s->placement);
    ASSERT_TRUE(placed.ok()) << placed.status();
    ASSERT_EQ((*placed)[0].nodes, std::vector<int>{2});      // inside the 8-GPU server
    ASSERT_EQ((*placed)[1].nodes, (std::vector<int>{0, 1}));  // over the two 4-GPU servers
    std::vector<double> seconds;
    const ReplicaGroup& g = s->deployment[0];
    for (const ReplicaPlacement& p : *placed) {
      const TensorParallelLink tp = TensorParallelLinkOf(layout, fabric, s->fabric, p);
      ReplicaHardware hw{s->model, g.gpu, layout.nodes[p.node_index].node, 8, &g.profile, tp.gbps, tp.latency_s};
      auto perf = MakePerfModel(s->perf_model, hw);
      ASSERT_TRUE(perf.ok()) << perf.status();
      const std::vector<SeqWork> prefill = {{2048, 0}}, decode(32, SeqWork{1, 1000});
      seconds.push_back((*perf)->IterationTime(prefill) + (*perf)->IterationTime(decode));
    }
    EXPECT_GT(seconds[1], seconds[0] * 1.1) << model;
  }
}

TEST(Topology, TensorParallelOverTwoDgxRunsFromTheCli) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "tp16.yaml", R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 2}]}
fabric: {topology: leaf-spine, nodes_per_leaf: 2, preset: infiniband-ndr}
model: Llama-2-70B
deployment: [{gpu: H100-SXM-80GB, tensor_parallel: 16, replicas: 1, scheduler: sarathi, max_batched_tokens: 2048}]
workload:
  synthetic:
    rate_rps: 2
    prompt_tokens: {dist: fixed, value: 512}
    output_tokens: {dist: fixed, value: 64}
  max_requests: 40
)");
  auto r = testing::RunGpufleet("simulate " + path + " --json", /*merge_stderr=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"requests_completed\": 40"), std::string::npos) << r.output.substr(0, 2000);
  r = testing::RunGpufleet("topology " + path);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("TP16 n0-DGX-H100-g0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("n1-DGX-H100-g7  (TP links 50 GB/s per GPU across 2 nodes"), std::string::npos) << r.output;
}

TEST(Topology, CliShowsPlacement) {
  auto r = testing::RunGpufleet("topology " + std::string(GPUFLEET_SOURCE_DIR) + "/scenarios/bench/azure-conv-x10.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("fabric: 7 nodes, 56 GPUs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 connected component(s)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("TP4"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gpufleet
