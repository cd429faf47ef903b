// Fabric graph algorithms on Boost.Graph (see topology.h).
#include "sim/platform/topology.h"

#include <algorithm>
#include <limits>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>

#include "absl/strings/str_cat.h"

namespace gpufleet {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double>>;

}  // namespace

FabricGraph::FabricGraph(const ClusterLayout& layout, const Catalog& catalog) {
  names_.push_back("core");
  std::vector<int> switch_vertex;
  for (size_t n = 0; n < layout.nodes.size(); ++n) {
    const NodeSpec& node = *layout.nodes[n].node;
    switch_vertex.push_back(static_cast<int>(names_.size()));
    names_.push_back(absl::StrCat("n", n, "-", node.name, "-switch"));
    edges_.push_back({0, switch_vertex.back(), node.network_gbps});
  }
  first_gpu_vertex_ = static_cast<int>(names_.size());
  for (size_t n = 0; n < layout.nodes.size(); ++n) {
    const NodeSpec& node = *layout.nodes[n].node;
    const GpuSpec* gpu = catalog.FindGpu(node.gpu);
    // As in the SimGrid platform: a single-GPU node's link stands for its PCIe path.
    const double intra = node.intra_gbps > 0 ? node.intra_gbps : (gpu != nullptr ? gpu->pcie_gbps : 0);
    for (int g = 0; g < node.gpus_per_node; ++g) {
      names_.push_back(absl::StrCat("n", n, "-", node.name, "-g", g));
      edges_.push_back({static_cast<int>(names_.size()) - 1, switch_vertex[n], intra});
    }
  }
}

int FabricGraph::Components() const {
  Graph g(names_.size());
  for (const Edge& e : edges_) boost::add_edge(e.a, e.b, e.gbps, g);
  std::vector<int> component(names_.size());
  return boost::connected_components(g, component.data());
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

double TensorParallelGbps(const FabricGraph& graph, const ReplicaPlacement& replica) {
  double narrowest = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < replica.gpus.size(); ++i)
    for (size_t j = i + 1; j < replica.gpus.size(); ++j)
      narrowest = std::min(narrowest, graph.BottleneckGbps(replica.gpus[i], replica.gpus[j]));
  return narrowest;
}

}  // namespace gpufleet
