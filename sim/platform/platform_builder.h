// Builds the SimGrid platform of a scenario's cluster.
//
// One SimGrid host per GPU (speed = its dense fp16 peak, so a later model can `execute` flops on it).
// Each node is a star: every GPU has a split-duplex link of the node's intra-node bandwidth to the
// node's switch (NVSwitch, NVLink or PCIe), and the switch reaches the cluster core over a split-duplex
// NIC link of the node's scale-out bandwidth. GPU hosts are named "n<node>-<NodeType>-g<gpu>", their
// links "<host>-link", the NICs "n<node>-<NodeType>-nic". The whole fabric is one SimGrid zone
// (FabricZone), so building it takes time linear in the GPU count.
#pragma once

#include <vector>

#include <simgrid/s4u/Host.hpp>

#include "sim/platform/placement.h"

namespace gpufleet {

struct Platform {
  ClusterLayout layout;
  std::vector<simgrid::s4u::Host*> gpus;  // by global GPU index
};

// Must run after the s4u::Engine is created and before it runs, on an empty platform (it makes the
// root zone; std::logic_error otherwise).
Platform BuildPlatform(const std::vector<NodeGroup>& cluster, const Catalog& catalog);

}  // namespace gpufleet
