// SimGrid platform construction (see platform_builder.h).
#include "sim/platform/platform_builder.h"

#include <stdexcept>
#include <utility>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>
#include <simgrid/s4u/NetZone.hpp>

#include "absl/strings/str_cat.h"
#include "sim/platform/fabric_zone.h"

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
  // The whole fabric is one zone, the platform's root (see fabric_zone.h for why not a zone per node).
  if (sg4::Engine::get_instance()->get_netzone_root() != nullptr) {
    throw std::logic_error("BuildPlatform: the SimGrid platform must be empty");
  }
  auto* fabric = new FabricZone("cluster");  // owned by the engine, as its root zone
  sg4::NetZone* zone = fabric->get_iface();
  platform.gpus.reserve(static_cast<size_t>(platform.layout.total_gpus));
  for (size_t n = 0; n < platform.layout.nodes.size(); ++n) {
    const NodeSpec& spec = *platform.layout.nodes[n].node;
    const std::string node_name = absl::StrCat("n", n, "-", spec.name);
    const GpuSpec* gpu = catalog.FindGpu(spec.gpu);
    const double gpu_flops = gpu != nullptr ? gpu->fp16_tflops * 1e12 : 1e12;
    // A single-GPU node has no peer fabric; its link then stands for the PCIe path to the host.
    const double intra_bps = (spec.intra_gbps > 0 ? spec.intra_gbps : (gpu != nullptr ? gpu->pcie_gbps : 16.0)) * 1e9;
    // Hosts and links are created in the order the former per-node zones created them (the GPUs and
    // their links, then the NIC).
    std::vector<std::pair<sg4::Host*, sg4::SplitDuplexLink*>> gpus;
    for (int g = 0; g < spec.gpus_per_node; ++g) {
      const std::string host_name = absl::StrCat(node_name, "-g", g);
      sg4::Host* host = zone->create_host(host_name, gpu_flops)->seal();
      sg4::SplitDuplexLink* link = zone->create_split_duplex_link(absl::StrCat(host_name, "-link"), intra_bps);
      link->set_latency(kIntraNodeLatencyS)->seal();
      gpus.emplace_back(host, link);
      platform.gpus.push_back(host);
    }
    sg4::SplitDuplexLink* nic = zone->create_split_duplex_link(absl::StrCat(node_name, "-nic"), spec.network_gbps * 1e9);
    nic->set_latency(kScaleOutLatencyS)->seal();
    const int node = fabric->AddNode(node_name, nic);
    for (const auto& [host, link] : gpus) fabric->AddGpu(host, node, link);
  }
  zone->seal();
  return platform;
}

}  // namespace gpufleet
