// The scale-out fabric: flows over its SimGrid routes take latency + size / bandwidth and share their
// bottlenecks; the Boost.Graph view's bisection bandwidth, hop counts and Graphviz output; the `fabric:`
// section's errors; the fabric presets of the catalog.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <xbt/log.h>

#include "sim/platform/platform_builder.h"
#include "sim/platform/topology.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

namespace sg4 = simgrid::s4u;
using testing::RealCatalog;

const NodeSpec& Dgx() { return *RealCatalog().FindNode("DGX-H100"); }

FabricSpec LeafSpine(int64_t nodes_per_leaf, double oversubscription) {
  FabricSpec f;
  f.topology = "leaf-spine";
  f.nodes_per_leaf = nodes_per_leaf;
  f.oversubscription = oversubscription;
  f.nic_latency_s = 0.6e-6;
  f.switch_latency_s = 0.13e-6;
  f.intra_latency_s = 1e-6;
  return f;
}

// An engine with SimGrid's plain flow model: latency, then max-min fair shares of each link's bandwidth
// (no TCP window bound nor the LV08 model's latency and bandwidth factors), so times are exact.
struct FlowEngine {
  FlowEngine() {
    xbt_log_control_set("root.thres:critical");
    sg4::Engine::set_config("network/model:CM02");
    sg4::Engine::set_config("network/TCP-gamma:0");
    sg4::Engine::set_config("network/crosstraffic:0");
  }
  int argc = 1;
  char arg0[5] = "test";
  char* argv[2] = {arg0, nullptr};
  sg4::Engine engine{&argc, argv};  // constructed before the body sets its configuration
};

// Runs `flows` (GPU index pairs) of `bytes` each, all started at `start_s`; the date each one lands.
std::vector<double> RunFlows(const Platform& p, const std::vector<std::pair<int, int>>& flows, double bytes) {
  std::vector<double> done(flows.size(), -1);
  sg4::Actor::create("sender", p.gpus[0], [&] {
    std::vector<sg4::CommPtr> comms;
    for (const auto& [from, to] : flows) comms.push_back(sg4::Comm::sendto_async(p.gpus[from], p.gpus[to], bytes));
    for (size_t i = 0; i < comms.size(); ++i) {
      comms[i]->wait();
      done[i] = sg4::Engine::get_clock();
    }
  });
  sg4::Engine::get_instance()->run();
  return done;
}

constexpr double kBytes = 1e9;

TEST(FabricFlows, OneCrossLeafFlowTakesLatencyPlusSizeOverBandwidth) {
  FlowEngine sim;
  const FabricSpec fabric = LeafSpine(2, 1);
  const Platform p = BuildPlatform({{&Dgx(), 4}}, RealCatalog(), fabric);
  // n0-g0 to n2-g0: GPU link, NIC, leaf 0's uplink, leaf 1's uplink, NIC, GPU link; three switches.
  std::vector<sg4::Link*> links;
  double latency = 0;
  p.gpus[0]->route_to(p.gpus[16], links, &latency);
  ASSERT_EQ(links.size(), 6u);
  EXPECT_EQ(links[2]->get_name(), "leaf0-uplink_UP");
  EXPECT_EQ(links[3]->get_name(), "leaf1-uplink_DOWN");
  const double route_latency = 2 * fabric.intra_latency_s + 2 * fabric.nic_latency_s + 3 * fabric.switch_latency_s;
  EXPECT_NEAR(latency, route_latency, 1e-15);
  // The narrowest link is the NIC (400 GB/s; the uplink carries 2 x 400 at 1:1).
  const std::vector<double> done = RunFlows(p, {{0, 16}}, kBytes);
  EXPECT_NEAR(done[0], route_latency + kBytes / (Dgx().network_gbps * 1e9), 1e-9);
}

TEST(FabricFlows, TwoFlowsOnOneUplinkEachGetHalf) {
  FlowEngine sim;
  // 4:1 over two DGX H100: each leaf's uplink carries 2 x 400 / 4 = 200 GB/s.
  const FabricSpec fabric = LeafSpine(2, 4);
  const Platform p = BuildPlatform({{&Dgx(), 4}}, RealCatalog(), fabric);
  const double route_latency = 2 * fabric.intra_latency_s + 2 * fabric.nic_latency_s + 3 * fabric.switch_latency_s;
  const double uplink_bps = 2 * Dgx().network_gbps * 1e9 / 4;
  // n0 -> n2 and n1 -> n3: both up leaf 0's uplink and down leaf 1's.
  const std::vector<double> done = RunFlows(p, {{0, 16}, {8, 24}}, kBytes);
  EXPECT_NEAR(done[0], route_latency + kBytes / (uplink_bps / 2), 1e-9);
  EXPECT_NEAR(done[1], done[0], 1e-12);
}

TEST(FabricFlows, OversubscriptionSlowsCrossLeafTrafficByItsRatio) {
  FlowEngine sim;
  const double ratio = 2;
  const FabricSpec fabric = LeafSpine(2, ratio);
  const Platform p = BuildPlatform({{&Dgx(), 4}}, RealCatalog(), fabric);
  const double same_leaf_latency = 2 * fabric.intra_latency_s + 2 * fabric.nic_latency_s + fabric.switch_latency_s;
  const double cross_leaf_latency = same_leaf_latency + 2 * fabric.switch_latency_s;
  // Every server of leaf 0 sending at once: to its neighbour under the same leaf (n0 -> n1, n1 -> n0: NIC
  // bound), then across the spine (n0 -> n2, n1 -> n3: the uplink's 1/ratio of their NICs).
  const std::vector<double> same = RunFlows(p, {{0, 8}, {8, 0}}, kBytes);
  const double same_s = same[0] - same_leaf_latency;
  EXPECT_NEAR(same_s, kBytes / (Dgx().network_gbps * 1e9), 1e-9);
  const double start = same[1];
  std::vector<double> cross(2, -1);
  sg4::Actor::create("cross", p.gpus[0], [&] {
    sg4::this_actor::sleep_until(start);
    auto a = sg4::Comm::sendto_async(p.gpus[0], p.gpus[16], kBytes);
    auto b = sg4::Comm::sendto_async(p.gpus[8], p.gpus[24], kBytes);
    a->wait();
    cross[0] = sg4::Engine::get_clock();
    b->wait();
    cross[1] = sg4::Engine::get_clock();
  });
  sg4::Engine::get_instance()->run();
  EXPECT_NEAR((cross[0] - start - cross_leaf_latency) / same_s, ratio, 1e-6);
  EXPECT_NEAR(cross[1], cross[0], 1e-12);
}

TEST(FabricFlows, RailsJoinSameRankGpusThroughTheirOwnNics) {
  FlowEngine sim;
  FabricSpec fabric;
  fabric.topology = "rail-optimized";
  fabric.nodes_per_leaf = 2;
  const Platform p = BuildPlatform({{&Dgx(), 4}}, RealCatalog(), fabric);
  auto names = [&](int from, int to) {
    std::vector<sg4::Link*> links;
    double latency = 0;
    p.gpus[from]->route_to(p.gpus[to], links, &latency);
    std::vector<std::string> out;
    for (const auto* l : links) out.push_back(l->get_name());
    return out;
  };
  // GPU 3 of node 0 to GPU 3 of node 1 (same rail group): its NIC, the other's NIC.
  EXPECT_EQ(names(3, 11), (std::vector<std::string>{"n0-DGX-H100-g3-nic_UP", "n1-DGX-H100-g3-nic_DOWN"}));
  // To another rail, or another group: up to the spine and down.
  EXPECT_EQ(names(3, 12), (std::vector<std::string>{"n0-DGX-H100-g3-nic_UP", "rail0-3-uplink_UP", "rail0-4-uplink_DOWN",
                                                    "n1-DGX-H100-g4-nic_DOWN"}));
  EXPECT_EQ(names(3, 19), (std::vector<std::string>{"n0-DGX-H100-g3-nic_UP", "rail0-3-uplink_UP", "rail1-3-uplink_DOWN",
                                                    "n2-DGX-H100-g3-nic_DOWN"}));
  // Each GPU's NIC is its share of the node's scale-out bandwidth: a flow alone runs at it.
  const std::vector<double> done = RunFlows(p, {{3, 11}}, kBytes);
  const double latency = 2 * fabric.nic_latency_s + fabric.switch_latency_s;
  EXPECT_NEAR(done[0], latency + kBytes / (Dgx().network_gbps / Dgx().gpus_per_node * 1e9), 1e-9);
}

TEST(FabricGraphTest, BisectionOfKnownTopologies) {
  const ClusterLayout four = LayoutCluster({{&Dgx(), 4}});
  const double nic = Dgx().network_gbps;
  // Star: two nodes' NICs on each side.
  EXPECT_DOUBLE_EQ(FabricGraph(four, RealCatalog(), FabricSpec{}).BisectionGbps(), 2 * nic);
  // Leaf-spine 2:1, two nodes per leaf: one leaf's uplink, 2 x 400 / 2.
  EXPECT_DOUBLE_EQ(FabricGraph(four, RealCatalog(), LeafSpine(2, 2)).BisectionGbps(), nic);
  // Fat-tree: full bisection.
  FabricSpec fat_tree = LeafSpine(2, 1);
  fat_tree.topology = "fat-tree";
  EXPECT_DOUBLE_EQ(FabricGraph(four, RealCatalog(), fat_tree).BisectionGbps(), 2 * nic);
  // Rails: non-blocking too, every GPU's own NIC.
  FabricSpec rails;
  rails.topology = "rail-optimized";
  rails.nodes_per_leaf = 2;
  EXPECT_DOUBLE_EQ(FabricGraph(four, RealCatalog(), rails).BisectionGbps(), 2 * nic);
  // One node: its GPUs in halves over the NVSwitch.
  EXPECT_DOUBLE_EQ(FabricGraph(LayoutCluster({{&Dgx(), 1}}), RealCatalog(), FabricSpec{}).BisectionGbps(),
                   4 * Dgx().intra_gbps);
}

std::map<int, int> HopHistogram(const FabricGraph& g) {
  std::map<int, int> h;
  for (int hops : g.HopsFrom(0)) ++h[hops];
  return h;
}

TEST(FabricGraphTest, HopCountsFromGpuZero) {
  const ClusterLayout four = LayoutCluster({{&Dgx(), 4}});
  // Star: itself, 7 peers through the NVSwitch, 24 GPUs through the core.
  EXPECT_EQ(HopHistogram(FabricGraph(four, RealCatalog(), FabricSpec{})), (std::map<int, int>{{0, 1}, {2, 7}, {4, 24}}));
  // Leaf-spine: the other node under leaf 0 at 4 hops, the other leaf's at 6.
  EXPECT_EQ(HopHistogram(FabricGraph(four, RealCatalog(), LeafSpine(2, 2))),
            (std::map<int, int>{{0, 1}, {2, 7}, {4, 8}, {6, 16}}));
  // Rails: the same rank of the other node of the group is 2 hops away, as close as a peer in the node.
  FabricSpec rails;
  rails.topology = "rail-optimized";
  rails.nodes_per_leaf = 2;
  EXPECT_EQ(HopHistogram(FabricGraph(four, RealCatalog(), rails)), (std::map<int, int>{{0, 1}, {2, 8}, {4, 23}}));
}

TEST(FabricGraphTest, ChecksPassAndDotParses) {
  const ClusterLayout layout = LayoutCluster({{&Dgx(), 3}, {RealCatalog().FindNode("8xL4-server"), 2}});
  const FabricGraph graph(layout, RealCatalog(), LeafSpine(2, 3));
  EXPECT_TRUE(graph.Check().ok()) << graph.Check();
  EXPECT_EQ(graph.fabric().leaves, 3);
  std::ostringstream dot;
  graph.WriteDot(dot);
  // Read back with Boost's own parser: every vertex and edge, each GPU by its name.
  boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::property<boost::vertex_name_t, std::string>,
                        boost::property<boost::edge_name_t, std::string>>
      parsed;
  boost::dynamic_properties props(boost::ignore_other_properties);
  props.property("label", boost::get(boost::vertex_name, parsed));
  props.property("label", boost::get(boost::edge_name, parsed));
  std::istringstream in(dot.str());
  ASSERT_TRUE(boost::read_graphviz(in, parsed, props));
  EXPECT_EQ(boost::num_vertices(parsed), graph.vertex_count());
  EXPECT_EQ(boost::num_edges(parsed), graph.edge_count());
  std::set<std::string> labels;
  for (auto v : boost::make_iterator_range(boost::vertices(parsed))) labels.insert(boost::get(boost::vertex_name, parsed, v));
  for (int gpu = 0; gpu < layout.total_gpus; ++gpu) {
    EXPECT_TRUE(labels.contains(graph.name(graph.gpu_vertex(gpu)))) << graph.name(graph.gpu_vertex(gpu));
  }
  EXPECT_TRUE(labels.contains("spine"));
  EXPECT_NE(dot.str().find("\"400 GB/s\""), std::string::npos);
}

TEST(FabricGraphTest, TenThousandNodesStayTractable) {
  // 80,000 GPUs: the loader's checks, the hop counts and the bisection max flow all run on it in well under
  // a second (BENCHMARKS.md); what this pins is that they finish with the figures the layout implies.
  const ClusterLayout layout = LayoutCluster({{&Dgx(), 10000}});
  const FabricGraph graph(layout, RealCatalog(), LeafSpine(16, 2));
  EXPECT_TRUE(graph.Check().ok());
  EXPECT_EQ(HopHistogram(graph), (std::map<int, int>{{0, 1}, {2, 7}, {4, 15 * 8}, {6, (10000 - 16) * 8}}));
  // 625 leaves with 16 x 400 / 2 GB/s uplinks: the alternate-leaf halves cut 312 of them.
  EXPECT_DOUBLE_EQ(graph.BisectionGbps(), 312 * 16 * Dgx().network_gbps / 2);
}

TEST(FabricPresets, GenericPresetIsTheDefault) {
  const FabricPreset* generic = RealCatalog().FindFabric("generic");
  ASSERT_NE(generic, nullptr);
  const FabricSpec defaults;
  EXPECT_DOUBLE_EQ(generic->nic_latency_s, defaults.nic_latency_s);
  EXPECT_DOUBLE_EQ(generic->switch_latency_s, defaults.switch_latency_s);
  EXPECT_DOUBLE_EQ(generic->intra_latency_s, defaults.intra_latency_s);
  for (const std::string name : {"infiniband-ndr", "infiniband-hdr", "roce-400g", "ethernet-100g"}) {
    const FabricPreset* p = RealCatalog().FindFabric(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_FALSE(p->sources.empty()) << name;
    EXPECT_GT(p->nic_latency_s, 0) << name;
  }
  EXPECT_DOUBLE_EQ(RealCatalog().FindFabric("infiniband-hdr")->switch_latency_s, 130e-9);
}

constexpr char kBase[] = R"(seed: 1
cluster: {nodes: [{type: DGX-H100, count: 4}]}
model: Llama-2-7B
deployment: [{gpu: H100-SXM-80GB, replicas: 2}]
workload:
  synthetic:
    rate_rps: 5
    prompt_tokens: {dist: fixed, value: 512}
    output_tokens: {dist: fixed, value: 128}
  max_requests: 10
)";

std::string LoadError(const std::string& fabric) {
  auto s = LoadScenarioFromString(kBase + fabric, "f.yaml", ".", RealCatalog());
  return s.ok() ? "" : std::string(s.status().message());
}

TEST(FabricSection, PresetAndOverridesResolve) {
  auto s = LoadScenarioFromString(
      kBase + std::string("fabric: {topology: leaf-spine, nodes_per_leaf: 2, oversubscription: 3, preset: roce-400g, "
                          "switch_latency_s: 2e-7}\n"),
      "f.yaml", ".", RealCatalog());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->fabric.topology, "leaf-spine");
  EXPECT_EQ(s->fabric.nodes_per_leaf, 2);
  EXPECT_DOUBLE_EQ(s->fabric.oversubscription, 3);
  EXPECT_DOUBLE_EQ(s->fabric.nic_latency_s, RealCatalog().FindFabric("roce-400g")->nic_latency_s);
  EXPECT_DOUBLE_EQ(s->fabric.switch_latency_s, 2e-7);
  auto plain = LoadScenarioFromString(kBase, "f.yaml", ".", RealCatalog());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->fabric.topology, "star");
  EXPECT_EQ(plain->placement.type, "first_fit");
}

TEST(FabricSection, BadInputIsLocated) {
  EXPECT_EQ(LoadError("fabric: {nodes_per_leaf: 2}\n"),
            "f.yaml:11:26: fabric.nodes_per_leaf is set, but a star has no leaves (one core switch joins every node); "
            "expected topology: leaf-spine, fat-tree or rail-optimized, or no nodes_per_leaf");
  EXPECT_EQ(LoadError("fabric: {topology: fat-tree, nodes_per_leaf: 2, oversubscription: 2}\n"),
            "f.yaml:11:67: fabric.oversubscription is set, but topology 'fat-tree' is non-blocking (1:1) by design; "
            "expected topology: leaf-spine, or no oversubscription");
  EXPECT_EQ(LoadError("fabric: {topology: leaf-spine}\n"),
            "f.yaml:11:9: fabric.topology 'leaf-spine' needs nodes_per_leaf; expected nodes_per_leaf: N, the servers "
            "under one leaf switch");
  EXPECT_NE(LoadError("fabric: {topology: star, preset: infiniband-ndx}\n")
                .find("f.yaml:11:34: fabric.preset 'infiniband-ndx' is not in the fabric catalog (did you mean "
                      "'infiniband-ndr'?); expected one of: ethernet-100g, generic,"),
            std::string::npos);
  EXPECT_NE(LoadError("fabric: {topology: torus}\n").find("f.yaml:11:20: fabric.topology is 'torus'"), std::string::npos)
      << LoadError("fabric: {topology: torus}\n");
  EXPECT_NE(LoadError("fabric: {topology: star, nic_latency: 1e-6}\n").find("unknown key 'nic_latency' in fabric (did you mean 'nic_latency_s'?)"),
            std::string::npos);
  EXPECT_NE(LoadError("fabric: {nic_latency_s: 1}\n").find("f.yaml:11:25: fabric.nic_latency_s is 1, out of range"),
            std::string::npos)
      << LoadError("fabric: {nic_latency_s: 1}\n");
}

TEST(FabricSection, CliExitsTwoAtTheKey) {
  const std::string dir = testing::TempDir();
  const std::string path = testing::WriteFile(dir, "bad.yaml", kBase + std::string("fabric: {topology: leaf-spine, nodes_per_leaf: 0}\n"));
  auto r = testing::RunGpufleet("simulate " + path + " --check", /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(path + ":11:48: fabric.nodes_per_leaf is 0, out of range"), std::string::npos) << r.output;
  r = testing::RunGpufleet("topology " + path, /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(FabricSection, TopologyCommandShowsLeavesBisectionAndDot) {
  const std::string scenario = std::string(GPUFLEET_SOURCE_DIR) + "/scenarios/fabric/leaf-spine-2to1.yaml";
  auto r = testing::RunGpufleet("topology " + scenario);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("topology: leaf-spine, 4 leaf switch(es) of up to 2 nodes, oversubscription 2:1"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("bisection bandwidth: 800 GB/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("hops from GPU 0 (n0-DGX-H100-g0): 2 hops: 7 GPU(s); 4 hops: 8 GPU(s); 6 hops: 48 GPU(s)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("TP links 50 GB/s per GPU across 2 nodes"), std::string::npos) << r.output;
  r = testing::RunGpufleet("topology " + scenario + " --dot");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("graph G {", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("n7-DGX-H100-g7"), std::string::npos);
  const std::string file = testing::TempDir() + "/fabric.dot";
  r = testing::RunGpufleet("topology " + scenario + " --dot " + file);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("leaf3"), std::string::npos);
  r = testing::RunGpufleet("topology " + scenario + " --dot /nonexistent-dir/x.dot", /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
}  // namespace gpufleet
