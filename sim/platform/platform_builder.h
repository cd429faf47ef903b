// Builds the SimGrid platform of a scenario's cluster.
//
// One SimGrid host per GPU (speed = its dense fp16 peak, so a later model can `execute` flops on it).
// Each node is a star zone: every GPU has a split-duplex link of the node's intra-node bandwidth to the
// node's switch (NVSwitch, NVLink or PCIe), and the node's gateway reaches the cluster's star zone over a
// link of the node's scale-out bandwidth. GPU hosts are named "n<node>-<NodeType>-g<gpu>".
#pragma once

#include <vector>

#include <simgrid/s4u/Host.hpp>

#include "sim/platform/placement.h"

namespace gpufleet {

struct Platform {
  ClusterLayout layout;
  std::vector<simgrid::s4u::Host*> gpus;  // by global GPU index
};

// Must run after the s4u::Engine is created and before it runs.
Platform BuildPlatform(const std::vector<NodeGroup>& cluster, const Catalog& catalog);

}  // namespace gpufleet
