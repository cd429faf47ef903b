// The cluster fabric as one SimGrid netzone: every GPU host and every link of every node in a single
// zone whose routing knows the fabric's shape (GPU -> node switch -> NIC -> leaf -> spine, or GPU -> its
// own NIC -> rail switch -> spine; docs/fabric.md).
//
// Why one zone and not a star zone per node under a root star zone (the natural SimGrid layout, and the
// first version): SimGrid 3.32 checks that a new host or link name is unique with a search that visits
// every zone of the platform (Engine::host_by_name_or_null / link_by_name_or_null recurse from the root),
// and sealing a zone lists the hosts of the whole platform (NetZoneImpl::get_all_hosts filters
// Engine::get_filtered_hosts). With a zone per node, building N nodes costs O(N^2): 20,000 nodes took
// minutes. In one zone both are map look-ups and sealing is done once.
//
// Routes, link by link (a star's are those the per-node star zones gave, in the same order, latencies
// summed in the same order):
//   inside a node (a GPU to itself included): the source GPU's link up, the destination GPU's link down;
//   across nodes: the source GPU's link up, its node's NIC up, [its leaf's uplink up, the destination
//     leaf's uplink down, when the leaves differ], the destination node's NIC down, the destination GPU's
//     link down;
//   rail-optimized, across nodes: the source GPU's own NIC up, [its rail switch's uplink up, the
//     destination rail switch's uplink down, when the rail switches differ], the destination GPU's NIC down.
// Switches are not links (nothing queues in them at this level of detail): a route adds the switch
// latency once per switch it crosses, 1 under one leaf or rail switch (or a star's core), 3 through the
// spine.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

namespace gpufleet {

class FabricZone final : public simgrid::kernel::routing::NetZoneImpl {
 public:
  FabricZone(const std::string& name, double switch_latency_s) : NetZoneImpl(name), switch_latency_s_(switch_latency_s) {}

  // Registers a leaf or rail switch, named `name`, with its split-duplex uplink to the spine (created in
  // this zone); returns its index.
  int AddLeaf(const std::string& name, const simgrid::s4u::SplitDuplexLink* uplink);
  // Registers a node, named `name` (its switch is "<name>-switch" in graphs), with its scale-out NIC (null
  // under rail-optimized, where each GPU has its own) under leaf `leaf` (-1: a star's core); returns the
  // node's index.
  int AddNode(const std::string& name, const simgrid::s4u::SplitDuplexLink* nic, int leaf);
  // Registers a GPU host of this zone on node `node` with its split-duplex link to the node's switch and,
  // under rail-optimized, its own NIC into rail switch `rail` (a leaf index).
  void AddGpu(const simgrid::s4u::Host* host, int node, const simgrid::s4u::SplitDuplexLink* link,
              const simgrid::s4u::SplitDuplexLink* nic = nullptr, int rail = -1);

  void get_local_route(const simgrid::kernel::routing::NetPoint* src, const simgrid::kernel::routing::NetPoint* dst,
                       simgrid::kernel::routing::Route* route, double* latency) override;
  void get_graph(const s_xbt_graph_t* graph, std::map<std::string, xbt_node_t, std::less<>>* nodes,
                 std::map<std::string, xbt_edge_t, std::less<>>* edges) override;

 private:
  // One direction of a split-duplex link: the s4u side gives its latency, the kernel side goes in routes.
  struct Hop {
    const simgrid::s4u::Link* link = nullptr;
    simgrid::kernel::resource::StandardLinkImpl* impl = nullptr;
  };
  struct Duplex {
    Hop up, down;
  };
  struct Gpu {
    int node = -1;  // -1: not a registered GPU
    Duplex link;
    Duplex nic;     // rail-optimized only
    int rail = -1;  // rail-optimized only: its rail switch
  };
  struct Node {
    std::string name;
    Duplex nic;
    int leaf = -1;
  };
  struct Leaf {
    std::string name;
    Duplex uplink;
  };
  static Duplex HopsOf(const simgrid::s4u::SplitDuplexLink* link);
  const Gpu& GpuOf(const simgrid::kernel::routing::NetPoint* point) const;
  // Up `from`'s uplink and down `to`'s when they differ: the switches crossed (1 or 3).
  int CrossSpine(int from, int to, simgrid::kernel::routing::Route* route, double* latency) const;

  double switch_latency_s_;
  std::vector<Gpu> gpus_;  // by netpoint id
  std::vector<Node> nodes_;
  std::vector<Leaf> leaves_;
};

}  // namespace gpufleet
