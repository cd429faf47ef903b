// The cluster fabric as one SimGrid netzone: every GPU host and every link of every node in a single
// zone whose routing knows the two-level star (GPU -> node switch -> cluster core).
//
// Why one zone and not a star zone per node under a root star zone (the natural SimGrid layout, and the
// first version): SimGrid 3.32 checks that a new host or link name is unique with a search that visits
// every zone of the platform (Engine::host_by_name_or_null / link_by_name_or_null recurse from the root),
// and sealing a zone lists the hosts of the whole platform (NetZoneImpl::get_all_hosts filters
// Engine::get_filtered_hosts). With a zone per node, building N nodes costs O(N^2): 20,000 nodes took
// minutes. In one zone both are map look-ups and sealing is done once.
//
// Routes are those the per-node star zones gave, link for link and in the same order, latencies summed
// in the same order: inside a node (a GPU to itself included) the source GPU's link up and the
// destination GPU's link down; across nodes the source GPU's link up, its node's NIC up, the destination
// node's NIC down and the destination GPU's link down.
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
  explicit FabricZone(const std::string& name) : NetZoneImpl(name) {}

  // Registers a node, named `name` (its switch is "<name>-switch" in graphs), with its scale-out NIC
  // (a split-duplex link created in this zone); returns the node's index.
  int AddNode(const std::string& name, const simgrid::s4u::SplitDuplexLink* nic);
  // Registers a GPU host of this zone on node `node` with its split-duplex link to the node's switch.
  void AddGpu(const simgrid::s4u::Host* host, int node, const simgrid::s4u::SplitDuplexLink* link);

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
  };
  struct Node {
    std::string name;
    Duplex nic;
  };
  static Duplex HopsOf(const simgrid::s4u::SplitDuplexLink* link);
  const Gpu& GpuOf(const simgrid::kernel::routing::NetPoint* point) const;

  std::vector<Gpu> gpus_;  // by netpoint id
  std::vector<Node> nodes_;
};

}  // namespace gpufleet
