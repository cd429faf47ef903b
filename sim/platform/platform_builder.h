// Builds the SimGrid platform of a scenario's cluster.
//
// One SimGrid host per GPU (speed = its dense fp16 peak, so a later model can `execute` flops on it).
// Each node is a star: every GPU has a split-duplex link of the node's intra-node bandwidth to the
// node's switch (NVSwitch, NVLink or PCIe), and the switch reaches the scale-out fabric over a
// split-duplex NIC link of the node's scale-out bandwidth: to the cluster core (star), or to its leaf,
// whose uplink reaches the spine (leaf-spine, fat-tree). Under rail-optimized each GPU has its own NIC of
// network_gbps / gpus_per_node into its rail switch instead. GPU hosts are named "n<node>-<NodeType>-g<gpu>",
// their links "<host>-link", the node NICs "n<node>-<NodeType>-nic", a GPU's own NIC "<host>-nic", the
// uplinks "leaf<l>-uplink" and "rail<k>-<g>-uplink". Latencies come from the FabricSpec (docs/fabric.md).
// The whole fabric is one SimGrid zone (FabricZone), so building it takes time linear in the GPU count.
#pragma once

#include <vector>

#include <simgrid/s4u/Host.hpp>

#include "sim/platform/fabric_layout.h"
#include "sim/platform/placement.h"

namespace gpufleet {

struct Platform {
  ClusterLayout layout;
  FabricLayout fabric;                    // which leaf each node is under (fabric.leaf_of_node)
  std::vector<simgrid::s4u::Host*> gpus;  // by global GPU index
};

// Must run after the s4u::Engine is created and before it runs, on an empty platform (it makes the
// root zone; std::logic_error otherwise). `fabric` as the scenario loader validated it.
Platform BuildPlatform(const std::vector<NodeGroup>& cluster, const Catalog& catalog, const FabricSpec& fabric);

}  // namespace gpufleet
