// SimGrid platform construction (see platform_builder.h).
#include "sim/platform/platform_builder.h"

#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include "absl/strings/str_cat.h"

namespace sg4 = simgrid::s4u;

namespace gpufleet {
namespace {
// Latencies are not in the catalog yet; these are typical one-hop figures.
constexpr double kIntraNodeLatencyS = 1e-6;
constexpr double kScaleOutLatencyS = 5e-6;
}  // namespace

Platform BuildPlatform(const std::vector<NodeGroup>& cluster, const Catalog& catalog) {
  Platform platform;
  platform.layout = LayoutCluster(cluster);
  sg4::NetZone* root = sg4::create_star_zone("cluster");
  for (size_t n = 0; n < platform.layout.nodes.size(); ++n) {
    const NodeSpec& spec = *platform.layout.nodes[n].node;
    const std::string node_name = absl::StrCat("n", n, "-", spec.name);
    sg4::NetZone* zone = sg4::create_star_zone(node_name);
    zone->set_parent(root);
    const GpuSpec* gpu = catalog.FindGpu(spec.gpu);
    const double gpu_flops = gpu != nullptr ? gpu->fp16_tflops * 1e12 : 1e12;
    // A single-GPU node has no peer fabric; its link then stands for the PCIe path to the host.
    const double intra_bps = (spec.intra_gbps > 0 ? spec.intra_gbps : (gpu != nullptr ? gpu->pcie_gbps : 16.0)) * 1e9;
    for (int g = 0; g < spec.gpus_per_node; ++g) {
      const std::string host_name = absl::StrCat(node_name, "-g", g);
      sg4::Host* host = zone->create_host(host_name, gpu_flops)->seal();
      const sg4::Link* link =
          zone->create_split_duplex_link(absl::StrCat(host_name, "-link"), intra_bps)
              ->set_latency(kIntraNodeLatencyS)
              ->seal();
      zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr,
                      {{link, sg4::LinkInRoute::Direction::UP}}, true);
      platform.gpus.push_back(host);
    }
    auto* gateway = zone->create_router(absl::StrCat(node_name, "-switch"));
    zone->add_route(gateway, nullptr, nullptr, nullptr, {}, true);
    zone->seal();
    const sg4::Link* nic = root->create_split_duplex_link(absl::StrCat(node_name, "-nic"), spec.network_gbps * 1e9)
                               ->set_latency(kScaleOutLatencyS)
                               ->seal();
    root->add_route(zone->get_netpoint(), nullptr, gateway, nullptr, {{nic, sg4::LinkInRoute::Direction::UP}}, true);
  }
  root->seal();
  return platform;
}

}  // namespace gpufleet
