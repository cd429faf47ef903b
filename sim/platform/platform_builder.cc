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

Platform BuildPlatform(const std::vector<NodeGroup>& cluster, const Catalog& catalog, const FabricSpec& fabric) {
  Platform platform;
  platform.layout = LayoutCluster(cluster);
  platform.fabric = LayoutFabric(platform.layout, fabric);
  const FabricLayout& layout = platform.fabric;
  const bool rails = fabric.topology == "rail-optimized";
  // The whole fabric is one zone, the platform's root (see fabric_zone.h for why not a zone per node).
  if (sg4::Engine::get_instance()->get_netzone_root() != nullptr) {
    throw std::logic_error("BuildPlatform: the SimGrid platform must be empty");
  }
  auto* zone_impl = new FabricZone("cluster", fabric.switch_latency_s);  // owned by the engine, as its root zone
  sg4::NetZone* zone = zone_impl->get_iface();
  // Uplinks carry no latency of their own: the switches at both ends count theirs (fabric_zone.h).
  for (size_t u = 0; u < layout.uplink_gbps.size(); ++u) {
    const int u_int = static_cast<int>(u);
    const std::string name = rails ? absl::StrCat("rail", u_int / layout.rails, "-", u_int % layout.rails)
                                   : absl::StrCat("leaf", u_int);
    sg4::SplitDuplexLink* uplink =
        zone->create_split_duplex_link(absl::StrCat(name, "-uplink"), layout.uplink_gbps[u] * 1e9);
    uplink->set_latency(0)->seal();
    zone_impl->AddLeaf(name, uplink);
  }
  platform.gpus.reserve(static_cast<size_t>(platform.layout.total_gpus));
  for (size_t n = 0; n < platform.layout.nodes.size(); ++n) {
    const NodeSpec& spec = *platform.layout.nodes[n].node;
    const std::string node_name = absl::StrCat("n", n, "-", spec.name);
    const GpuSpec* gpu = catalog.FindGpu(spec.gpu);
    const double gpu_flops = gpu != nullptr ? gpu->fp16_tflops * 1e12 : 1e12;
    // A single-GPU node has no peer fabric; its link then stands for the PCIe path to the host.
    const double intra_bps = (spec.intra_gbps > 0 ? spec.intra_gbps : (gpu != nullptr ? gpu->pcie_gbps : 16.0)) * 1e9;
    const int leaf = layout.has_spine() && !rails ? layout.leaf_of_node[n] : -1;
    // Hosts and links are created in the order the former per-node zones created them (the GPUs and
    // their links, then the NIC).
    struct GpuLinks {
      sg4::Host* host;
      sg4::SplitDuplexLink* link;
      sg4::SplitDuplexLink* nic;
    };
    std::vector<GpuLinks> gpus;
    for (int g = 0; g < spec.gpus_per_node; ++g) {
      const std::string host_name = absl::StrCat(node_name, "-g", g);
      sg4::Host* host = zone->create_host(host_name, gpu_flops)->seal();
      sg4::SplitDuplexLink* link = zone->create_split_duplex_link(absl::StrCat(host_name, "-link"), intra_bps);
      link->set_latency(fabric.intra_latency_s)->seal();
      sg4::SplitDuplexLink* nic = nullptr;
      if (rails) {
        nic = zone->create_split_duplex_link(absl::StrCat(host_name, "-nic"),
                                             spec.network_gbps / spec.gpus_per_node * 1e9);
        nic->set_latency(fabric.nic_latency_s)->seal();
      }
      gpus.push_back({host, link, nic});
      platform.gpus.push_back(host);
    }
    sg4::SplitDuplexLink* nic = nullptr;
    if (!rails) {
      nic = zone->create_split_duplex_link(absl::StrCat(node_name, "-nic"), spec.network_gbps * 1e9);
      nic->set_latency(fabric.nic_latency_s)->seal();
    }
    const int node = zone_impl->AddNode(node_name, nic, leaf);
    for (int g = 0; g < spec.gpus_per_node; ++g) {
      const int rail = rails ? layout.leaf_of_node[n] * layout.rails + g : -1;
      zone_impl->AddGpu(gpus[g].host, node, gpus[g].link, gpus[g].nic, rail);
    }
  }
  zone->seal();
  return platform;
}

}  // namespace gpufleet
