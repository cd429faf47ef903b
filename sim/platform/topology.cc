// Fabric graph algorithms on Boost.Graph (see topology.h).
#include "sim/platform/topology.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gpufleet {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double>>;

}  // namespace

int FabricGraph::AddVertex(std::string name) {
  names_.push_back(std::move(name));
  node_of_vertex_.push_back(-1);
  return static_cast<int>(names_.size()) - 1;
}

FabricGraph::FabricGraph(const ClusterLayout& layout, const Catalog& catalog, const FabricSpec& fabric)
    : fabric_(LayoutFabric(layout, fabric)), nodes_(static_cast<int>(layout.nodes.size())) {
  const bool scale_out = layout.nodes.size() > 1;
  const bool rails = fabric_.topology == "rail-optimized";
  // The star's core, or the spine when there is one.
  int top = -1;
  if (scale_out && (fabric_.topology == "star" || fabric_.has_spine())) top = AddVertex(fabric_.has_spine() ? "spine" : "core");
  std::vector<int> leaf_vertex;
  if (scale_out && fabric_.topology != "star") {
    const int switches = rails ? fabric_.leaves * fabric_.rails : fabric_.leaves;
    for (int u = 0; u < switches; ++u) {
      leaf_vertex.push_back(AddVertex(rails ? absl::StrCat("rail", u / fabric_.rails, "-", u % fabric_.rails)
                                            : absl::StrCat("leaf", u)));
      if (top >= 0) edges_.push_back({leaf_vertex.back(), top, fabric_.uplink_gbps[u]});
    }
  }
  // A node's switch joins its GPUs; under rails a single GPU needs none (its NIC is its only link).
  std::vector<int> switch_vertex;
  for (size_t n = 0; n < layout.nodes.size(); ++n) {
    const NodeSpec& node = *layout.nodes[n].node;
    const bool needed = !rails || node.gpus_per_node > 1 || !scale_out;
    switch_vertex.push_back(needed ? AddVertex(absl::StrCat("n", n, "-", node.name, "-switch")) : -1);
    if (!scale_out || rails) continue;
    const int up = fabric_.topology == "star" ? top : leaf_vertex[fabric_.leaf_of_node[n]];
    edges_.push_back({switch_vertex.back(), up, node.network_gbps});
  }
  first_gpu_vertex_ = static_cast<int>(names_.size());
  for (size_t n = 0; n < layout.nodes.size(); ++n) {
    const NodeSpec& node = *layout.nodes[n].node;
    const GpuSpec* gpu = catalog.FindGpu(node.gpu);
    // As in the SimGrid platform: a single-GPU node's link stands for its PCIe path.
    const double intra = node.intra_gbps > 0 ? node.intra_gbps : (gpu != nullptr ? gpu->pcie_gbps : 0);
    for (int g = 0; g < node.gpus_per_node; ++g) {
      const int v = AddVertex(absl::StrCat("n", n, "-", node.name, "-g", g));
      node_of_vertex_[v] = static_cast<int>(n);
      if (switch_vertex[n] >= 0) edges_.push_back({v, switch_vertex[n], intra});
      if (rails && scale_out) {
        edges_.push_back({v, leaf_vertex[fabric_.leaf_of_node[n] * fabric_.rails + g],
                          node.network_gbps / node.gpus_per_node});
      }
    }
  }
}

int FabricGraph::Components() const {
  Graph g(names_.size());
  for (const Edge& e : edges_) boost::add_edge(e.a, e.b, e.gbps, g);
  std::vector<int> component(names_.size());
  return boost::connected_components(g, component.data());
}

absl::Status FabricGraph::Check() const {
  std::vector<int> degree(names_.size(), 0);
  for (const Edge& e : edges_) {
    if (!(e.gbps > 0) || !std::isfinite(e.gbps) || e.a == e.b) {
      return absl::FailedPreconditionError(absl::StrFormat("the fabric's link %s -- %s has no usable bandwidth (%g GB/s)",
                                                           names_[e.a], names_[e.b], e.gbps));
    }
    ++degree[e.a];
    ++degree[e.b];
  }
  for (size_t v = 0; v < names_.size(); ++v) {
    if (degree[v] == 0 && names_.size() > 1) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the fabric's %s %s has no link", node_of_vertex_[v] >= 0 ? "GPU" : "switch", names_[v]));
    }
  }
  Graph g(names_.size());
  for (const Edge& e : edges_) boost::add_edge(e.a, e.b, e.gbps, g);
  std::vector<int> component(names_.size());
  if (const int n = boost::connected_components(g, component.data()); n > 1) {
    for (size_t v = first_gpu_vertex_; v < names_.size(); ++v) {
      if (component[v] != component[first_gpu_vertex_]) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "the fabric falls into %d parts: GPU %s cannot reach GPU %s", n, names_[v], names_[first_gpu_vertex_]));
      }
    }
    return absl::FailedPreconditionError(absl::StrFormat("the fabric falls into %d parts", n));
  }
  return absl::OkStatus();
}

double FabricGraph::BottleneckGbps(int gpu_a, int gpu_b) const {
  if (gpu_a == gpu_b) return std::numeric_limits<double>::infinity();
  Graph g(names_.size());
  for (const Edge& e : edges_) boost::add_edge(e.a, e.b, e.gbps, g);
  // Widest path: Dijkstra over the (max, min) semiring instead of (min, +).
  std::vector<double> width(names_.size());
  boost::dijkstra_shortest_paths(
      g, boost::vertex(gpu_vertex(gpu_a), g),
      boost::distance_map(width.data())
          .distance_compare(std::greater<double>())
          .distance_combine([](double a, double b) { return std::min(a, b); })
          .distance_inf(0.0)
          .distance_zero(std::numeric_limits<double>::infinity()));
  return width[gpu_vertex(gpu_b)];
}

std::vector<int> FabricGraph::HopsFrom(int gpu) const {
  Graph g(names_.size());
  for (const Edge& e : edges_) boost::add_edge(e.a, e.b, e.gbps, g);
  std::vector<int> dist(names_.size(), -1);
  dist[gpu_vertex(gpu)] = 0;
  boost::breadth_first_search(
      g, boost::vertex(gpu_vertex(gpu), g),
      boost::visitor(boost::make_bfs_visitor(boost::record_distances(dist.data(), boost::on_tree_edge()))));
  return std::vector<int>(dist.begin() + first_gpu_vertex_, dist.end());
}

double FabricGraph::MaxFlowGbps(const std::vector<bool>& in_a) const {
  // Capacities in MB/s as integers: push-relabel on doubles can stall on rounding.
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, int64_t,
                      boost::property<boost::edge_residual_capacity_t, int64_t,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  FlowGraph g(names_.size() + 2);
  const int source = static_cast<int>(names_.size()), sink = source + 1;
  auto capacity = boost::get(boost::edge_capacity, g);
  auto reverse = boost::get(boost::edge_reverse, g);
  // A link is two arcs, one per direction, each the other's reverse: split-duplex links carry their
  // bandwidth each way at once.
  auto link = [&](int a, int b, int64_t ab, int64_t ba) {
    auto e1 = boost::add_edge(a, b, g).first;
    auto e2 = boost::add_edge(b, a, g).first;
    capacity[e1] = ab;
    capacity[e2] = ba;
    reverse[e1] = e2;
    reverse[e2] = e1;
  };
  int64_t total = 1;
  for (const Edge& e : edges_) {
    const auto mbps = static_cast<int64_t>(std::llround(e.gbps * 1000));
    link(e.a, e.b, mbps, mbps);
    total += mbps;
  }
  for (size_t v = first_gpu_vertex_; v < names_.size(); ++v) {
    const int node = node_of_vertex_[v];
    const bool a = nodes_ > 1 ? in_a[node] : in_a[v - first_gpu_vertex_];
    if (a) {
      link(source, static_cast<int>(v), total, 0);
    } else {
      link(static_cast<int>(v), sink, total, 0);
    }
  }
  return static_cast<double>(boost::push_relabel_max_flow(g, source, sink)) / 1000.0;
}

// Which halves: the first half of the nodes against the second (cluster order), and every other leaf (or
// node, in a star) against the rest. These fabrics are trees of identical leaves above nodes of one kind,
// so the narrowest way to cut them in two equal halves follows leaf boundaries and any such halving costs
// the same: both splits find it. A mixed cluster's true bisection (an NP-hard minimum over every halving)
// may be narrower than the lesser of the two, which is what this returns.
double FabricGraph::BisectionGbps() const {
  const int units = nodes_ > 1 ? nodes_ : static_cast<int>(names_.size()) - first_gpu_vertex_;
  if (units < 2) return 0;
  std::vector<bool> halves(units), alternate(units);
  for (int u = 0; u < units; ++u) {
    halves[u] = u < units / 2;
    const int domain = nodes_ > 1 && fabric_.leaves > 1 ? fabric_.leaf_of_node[u] : u;
    alternate[u] = domain % 2 == 0;
  }
  double best = MaxFlowGbps(halves);
  if (alternate != halves) best = std::min(best, MaxFlowGbps(alternate));
  return best;
}

void FabricGraph::WriteDot(std::ostream& out) const {
  struct EdgeProps {
    double gbps;
  };
  using DotGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property, EdgeProps>;
  DotGraph g(names_.size());
  for (const Edge& e : edges_) boost::add_edge(e.a, e.b, EdgeProps{e.gbps}, g);
  auto edge_label = [&g](std::ostream& os, const DotGraph::edge_descriptor& e) {
    os << "[label=\"" << absl::StrFormat("%g GB/s", g[e].gbps) << "\"]";
  };
  boost::write_graphviz(out, g, boost::make_label_writer(names_.data()), edge_label);
}

}  // namespace gpufleet
