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

int FabricZone::AddNode(const std::string& name, const simgrid::s4u::SplitDuplexLink* nic) {
  nodes_.push_back({name, HopsOf(nic)});
  return static_cast<int>(nodes_.size()) - 1;
}

void FabricZone::AddGpu(const simgrid::s4u::Host* host, int node, const simgrid::s4u::SplitDuplexLink* link) {
  const unsigned long id = host->get_netpoint()->id();
  if (gpus_.size() <= id) gpus_.resize(id + 1);
  gpus_[id] = {node, HopsOf(link)};
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
  const Duplex& nic_from = nodes_[from.node].nic;
  const Duplex& nic_to = nodes_[to.node].nic;
  route->link_list_.insert(route->link_list_.end(),
                           {from.link.up.impl, nic_from.up.impl, nic_to.down.impl, to.link.down.impl});
  // Summed in the order SimGrid's recursive routing summed them through the per-node zones (the core's
  // hops, then the source node's, then the destination node's), so the doubles are the same.
  if (latency != nullptr) {
    *latency += nic_from.up.link->get_latency();
    *latency += nic_to.down.link->get_latency();
    *latency += from.link.up.link->get_latency();
    *latency += to.link.down.link->get_latency();
  }
}

void FabricZone::get_graph(const s_xbt_graph_t* graph, std::map<std::string, xbt_node_t, std::less<>>* nodes,
                           std::map<std::string, xbt_edge_t, std::less<>>* edges) {
  const xbt_node_t core = new_xbt_graph_node(graph, get_cname(), nodes);
  std::vector<xbt_node_t> switches;
  for (const Node& n : nodes_) {
    switches.push_back(new_xbt_graph_node(graph, (n.name + "-switch").c_str(), nodes));
    new_xbt_graph_edge(graph, switches.back(), core, edges);
  }
  for (const sgr::NetPoint* point : get_vertices()) {
    if (point->id() >= gpus_.size() || gpus_[point->id()].node < 0) continue;
    new_xbt_graph_edge(graph, new_xbt_graph_node(graph, point->get_cname(), nodes), switches[gpus_[point->id()].node],
                       edges);
  }
}

}  // namespace gpufleet
