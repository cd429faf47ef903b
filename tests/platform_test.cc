// The SimGrid platform: one host per GPU at its peak speed, NVLink-class links inside a node, NIC links
// between nodes; first-fit placement keeps tensor-parallel groups inside one node.
#include <gtest/gtest.h>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>
#include <xbt/log.h>

#include "sim/platform/platform_builder.h"
#include "sim/platform/topology.h"
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
  const Platform p = BuildPlatform(TwoDgxH100(), RealCatalog());
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
  auto placed = PlaceReplicas(LayoutCluster(TwoDgxH100()), groups);
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(placed->size(), 5u);
  EXPECT_EQ((*placed)[0].gpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ((*placed)[1].gpus, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ((*placed)[2].gpus, (std::vector<int>{8, 9, 10, 11}));
  EXPECT_EQ((*placed)[3].gpus, (std::vector<int>{12, 13}));
  EXPECT_EQ((*placed)[4].gpus, (std::vector<int>{14, 15}));
  groups[1].replicas = 3;  // one GPU pair too many
  EXPECT_FALSE(PlaceReplicas(LayoutCluster(TwoDgxH100()), groups).ok());
}

}  // namespace
}  // namespace gpufleet

namespace gpufleet {
namespace {

TEST(Topology, WidestPathsFollowTheFabric) {
  const ClusterLayout layout = LayoutCluster({{testing::RealCatalog().FindNode("DGX-H100"), 2},
                                              {testing::RealCatalog().FindNode("8xL4-server"), 1}});
  const FabricGraph graph(layout, testing::RealCatalog());
  EXPECT_EQ(graph.Components(), 1);
  EXPECT_EQ(graph.vertex_count(), 1u + 3u + 24u);
  const NodeSpec& dgx = *testing::RealCatalog().FindNode("DGX-H100");
  const NodeSpec& l4 = *testing::RealCatalog().FindNode("8xL4-server");
  EXPECT_DOUBLE_EQ(graph.BottleneckGbps(0, 7), dgx.intra_gbps);
  EXPECT_DOUBLE_EQ(graph.BottleneckGbps(0, 8), dgx.network_gbps);
  EXPECT_DOUBLE_EQ(graph.BottleneckGbps(0, 16), std::min({dgx.intra_gbps, dgx.network_gbps, l4.network_gbps, l4.intra_gbps}));
  ReplicaPlacement tp4{0, 0, 0, {0, 1, 2, 3}};
  EXPECT_DOUBLE_EQ(TensorParallelGbps(graph, tp4), dgx.intra_gbps);
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
