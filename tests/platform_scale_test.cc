// A large fleet's SimGrid platform: 4,000 nodes (32,000 GPU hosts) build with the same names and routes as
// a small one. Per-node SimGrid zones made this quadratic (80 s here); the single fabric zone is linear.
#include <gtest/gtest.h>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>
#include <xbt/log.h>

#include "sim/platform/platform_builder.h"
#include "tests/test_util.h"

namespace gpufleet {
namespace {

using testing::RealCatalog;

std::vector<std::string> LinkNames(simgrid::s4u::Host* from, simgrid::s4u::Host* to, double* latency) {
  std::vector<simgrid::s4u::Link*> links;
  *latency = 0;
  from->route_to(to, links, latency);
  std::vector<std::string> names;
  for (const auto* l : links) names.push_back(l->get_name());
  return names;
}

TEST(PlatformScale, FourThousandNodesKeepTheirNamesAndRoutes) {
  xbt_log_control_set("root.thres:critical");
  int argc = 1;
  char arg0[] = "test";
  char* argv[] = {arg0, nullptr};
  simgrid::s4u::Engine engine(&argc, argv);
  // A mixed fleet: 3,999 DGX H100s and one 2-GPU A40 node last.
  const Platform p = BuildPlatform(
      {{RealCatalog().FindNode("DGX-H100"), 3999}, {RealCatalog().FindNode("2xA40-nvlink"), 1}}, RealCatalog(),
      FabricSpec{});
  ASSERT_EQ(p.gpus.size(), 3999u * 8 + 2);
  EXPECT_EQ(engine.get_host_count(), p.gpus.size());
  EXPECT_EQ(p.gpus[0]->get_name(), "n0-DGX-H100-g0");
  EXPECT_EQ(p.gpus[8 * 2500 + 3]->get_name(), "n2500-DGX-H100-g3");
  EXPECT_EQ(p.gpus[3999 * 8 - 1]->get_name(), "n3998-DGX-H100-g7");
  EXPECT_EQ(p.gpus.back()->get_name(), "n3999-2xA40-nvlink-g1");
  EXPECT_EQ(engine.host_by_name("n1234-DGX-H100-g5"), p.gpus[1234 * 8 + 5]);

  const NodeSpec& dgx = *RealCatalog().FindNode("DGX-H100");
  const NodeSpec& a40 = *RealCatalog().FindNode("2xA40-nvlink");
  double latency = 0;
  // Inside a node: up the source GPU's link, down the destination's.
  EXPECT_EQ(LinkNames(p.gpus[8 * 3000 + 1], p.gpus[8 * 3000 + 6], &latency),
            (std::vector<std::string>{"n3000-DGX-H100-g1-link_UP", "n3000-DGX-H100-g6-link_DOWN"}));
  EXPECT_DOUBLE_EQ(latency, 2e-6);
  // Across nodes: both GPU links and both NICs, the narrowest the slower node's NIC.
  EXPECT_EQ(LinkNames(p.gpus[8 * 17 + 2], p.gpus.back(), &latency),
            (std::vector<std::string>{"n17-DGX-H100-g2-link_UP", "n17-DGX-H100-nic_UP", "n3999-2xA40-nvlink-nic_DOWN",
                                      "n3999-2xA40-nvlink-g1-link_DOWN"}));
  EXPECT_DOUBLE_EQ(latency, 12e-6);
  std::vector<simgrid::s4u::Link*> links;
  p.gpus[8 * 17 + 2]->route_to(p.gpus.back(), links, &latency);
  ASSERT_EQ(links.size(), 4u);
  EXPECT_DOUBLE_EQ(links[0]->get_bandwidth(), dgx.intra_gbps * 1e9);
  EXPECT_DOUBLE_EQ(links[1]->get_bandwidth(), dgx.network_gbps * 1e9);
  EXPECT_DOUBLE_EQ(links[2]->get_bandwidth(), a40.network_gbps * 1e9);
  EXPECT_DOUBLE_EQ(links[3]->get_bandwidth(), a40.intra_gbps * 1e9);
  // Every GPU has its split-duplex link, every node its NIC.
  auto count_links = [&](const std::string& suffix) {
    return engine.get_filtered_links([&](const simgrid::s4u::Link* l) { return l->get_name().ends_with(suffix); }).size();
  };
  EXPECT_EQ(count_links("-link_UP"), p.gpus.size());
  EXPECT_EQ(count_links("-link_DOWN"), p.gpus.size());
  EXPECT_EQ(count_links("-nic_UP"), 4000u);
  EXPECT_EQ(count_links("-nic_DOWN"), 4000u);
}

}  // namespace
}  // namespace gpufleet
