// The cluster fabric as one SimGrid netzone (see fabric_zone.h).
#include "sim/platform/fabric_zone.h"

#include <stdexcept>

#include <simgrid/kernel/routing/NetPoint.hpp>

namespace gpufleet {

namespace sgr = simgrid::kernel::routing;

FabricZone::Duplex FabricZone::HopsOf(const simgrid::s4u::SplitDuplexLink* link) {
  const simgrid::s4u::Link* up = link->get_link_up();
  const simgrid::s4u::Link* down = link->get_link_down();
  return {{up, up->get_impl()}, {down, down->get_impl()}};
}

int FabricZone::AddLeaf(const std::string& name, const simgrid::s4u::SplitDuplexLink* uplink) {
  leaves_.push_back({name, HopsOf(uplink)});
  return static_cast<int>(leaves_.size()) - 1;
}

int FabricZone::AddNode(const std::string& name, const simgrid::s4u::SplitDuplexLink* nic, int leaf) {
  nodes_.push_back({name, nic != nullptr ? HopsOf(nic) : Duplex{}, leaf});
  return static_cast<int>(nodes_.size()) - 1;
}

void FabricZone::AddGpu(const simgrid::s4u::Host* host, int node, const simgrid::s4u::SplitDuplexLink* link,
                        const simgrid::s4u::SplitDuplexLink* nic, int rail) {
  const unsigned long id = host->get_netpoint()->id();
  if (gpus_.size() <= id) gpus_.resize(id + 1);
  gpus_[id] = {node, HopsOf(link), nic != nullptr ? HopsOf(nic) : Duplex{}, rail};
}

int FabricZone::CrossSpine(int from, int to, sgr::Route* route, double* latency) const {
  if (from == to) return 1;
  const Hop& up = leaves_[from].uplink.up;
  const Hop& down = leaves_[to].uplink.down;
  route->link_list_.insert(route->link_list_.end(), {up.impl, down.impl});
  if (latency != nullptr) *latency += up.link->get_latency() + down.link->get_latency();
  return 3;  // the source's leaf, the spine, the destination's leaf
}

const FabricZone::Gpu& FabricZone::GpuOf(const sgr::NetPoint* point) const {
  if (point->id() >= gpus_.size() || gpus_[point->id()].node < 0) {
    throw std::logic_error("FabricZone: no route for " + point->get_name() + ", which is not a GPU of " + get_name());
  }
  return gpus_[point->id()];
}

void FabricZone::get_local_route(const sgr::NetPoint* src, const sgr::NetPoint* dst, sgr::Route* route,
                                 double* latency) {
  const Gpu& from = GpuOf(src);
  const Gpu& to = GpuOf(dst);
  // Same node (a GPU to itself too): up to the node's switch and down, as the node's star zone routed.
  if (from.node == to.node) {
    route->link_list_.push_back(from.link.up.impl);
    route->link_list_.push_back(to.link.down.impl);
    if (latency != nullptr) {
      *latency += from.link.up.link->get_latency();
      *latency += to.link.down.link->get_latency();
    }
    return;
  }
  if (from.rail >= 0) {  // rail-optimized: each GPU's own NIC, no node switch on the way
    route->link_list_.push_back(from.nic.up.impl);
    if (latency != nullptr) *latency += from.nic.up.link->get_latency() + to.nic.down.link->get_latency();
    const int switches = CrossSpine(from.rail, to.rail, route, latency);
    route->link_list_.push_back(to.nic.down.impl);
    if (latency != nullptr) *latency += switches * switch_latency_s_;
    return;
  }
  const Node& node_from = nodes_[from.node];
  const Node& node_to = nodes_[to.node];
  route->link_list_.insert(route->link_list_.end(), {from.link.up.impl, node_from.nic.up.impl});
  // Summed in the order SimGrid's recursive routing summed them through the per-node zones (the core's
  // hops, then the source node's, then the destination node's), so a star's doubles are the same.
  if (latency != nullptr) {
    *latency += node_from.nic.up.link->get_latency();
    *latency += node_to.nic.down.link->get_latency();
    *latency += from.link.up.link->get_latency();
    *latency += to.link.down.link->get_latency();
  }
  const int switches = node_from.leaf < 0 ? 1 : CrossSpine(node_from.leaf, node_to.leaf, route, latency);
  route->link_list_.insert(route->link_list_.end(), {node_to.nic.down.impl, to.link.down.impl});
  if (latency != nullptr) *latency += switches * switch_latency_s_;
}

void FabricZone::get_graph(const s_xbt_graph_t* graph, std::map<std::string, xbt_node_t, std::less<>>* nodes,
                           std::map<std::string, xbt_edge_t, std::less<>>* edges) {
  // The zone's own vertex is the star's core, or the spine above the leaves.
  const xbt_node_t core = new_xbt_graph_node(graph, get_cname(), nodes);
  std::vector<xbt_node_t> leaves, switches;
  for (const Leaf& l : leaves_) {
    leaves.push_back(new_xbt_graph_node(graph, l.name.c_str(), nodes));
    new_xbt_graph_edge(graph, leaves.back(), core, edges);
  }
  for (const Node& n : nodes_) {
    switches.push_back(new_xbt_graph_node(graph, (n.name + "-switch").c_str(), nodes));
    if (n.nic.up.link != nullptr) new_xbt_graph_edge(graph, switches.back(), n.leaf < 0 ? core : leaves[n.leaf], edges);
  }
  for (const sgr::NetPoint* point : get_vertices()) {
    if (point->id() >= gpus_.size() || gpus_[point->id()].node < 0) continue;
    const Gpu& gpu = gpus_[point->id()];
    const xbt_node_t vertex = new_xbt_graph_node(graph, point->get_cname(), nodes);
    new_xbt_graph_edge(graph, vertex, switches[gpu.node], edges);
    if (gpu.rail >= 0) new_xbt_graph_edge(graph, vertex, leaves[gpu.rail], edges);
  }
}

}  // namespace gpufleet
