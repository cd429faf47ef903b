// A Boost.Graph view of the cluster fabric, for checks and reports that need graph algorithms rather than
// a simulation: connectivity, hop counts, widest-path (bottleneck) bandwidth, bisection bandwidth, and
// Graphviz output.
//
// It mirrors the fabric sim/platform/platform_builder builds: vertices are the star's core or the spine,
// the leaf or rail switches, one switch per node and one vertex per GPU; edges carry one-direction GB/s
// (GPU to its node switch: intra-node; node switch to its leaf or the core: the node's NIC; leaf or rail
// switch to the spine: its uplink; under rail-optimized, GPU to its rail switch: its own NIC). A cluster of
// one node has no scale-out vertices (nothing crosses them). Built from the cluster layout alone (no
// SimGrid engine), so the scenario loader and `gpufleet topology` can use it before anything runs.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sim/platform/fabric_layout.h"
#include "sim/platform/placement.h"

namespace gpufleet {

class FabricGraph {
 public:
  FabricGraph(const ClusterLayout& layout, const Catalog& catalog, const FabricSpec& fabric);

  int gpu_vertex(int gpu) const { return first_gpu_vertex_ + gpu; }
  size_t vertex_count() const { return names_.size(); }
  size_t edge_count() const { return edges_.size(); }
  const std::string& name(int vertex) const { return names_[vertex]; }
  const FabricLayout& fabric() const { return fabric_; }

  // Number of connected components (1 for a usable fabric).
  int Components() const;
  // The checks a usable fabric passes: one connected component, every GPU linked to it, no switch without
  // links, no link without bandwidth. FailedPrecondition naming the first fault.
  absl::Status Check() const;
  // Bandwidth of the widest path between two GPUs, GB/s (0 when disconnected).
  double BottleneckGbps(int gpu_a, int gpu_b) const;
  // Hops (edges) from GPU `gpu` to each GPU by breadth-first search, by GPU index; -1 when unreachable.
  std::vector<int> HopsFrom(int gpu) const;
  // GB/s one direction that can cross from one half of the cluster's nodes to the other at once (max flow;
  // see topology.cc for the halves). A one-node cluster splits its GPUs instead.
  double BisectionGbps() const;
  // The graph in Graphviz's dot language, vertices labelled by name and edges by GB/s.
  void WriteDot(std::ostream& out) const;

 private:
  struct Edge {
    int a, b;
    double gbps;
  };
  int AddVertex(std::string name);
  // Max flow from the GPUs of the nodes `in_a` marks to the GPUs of the others, GB/s.
  double MaxFlowGbps(const std::vector<bool>& in_a) const;

  FabricLayout fabric_;
  std::vector<std::string> names_;
  std::vector<Edge> edges_;
  std::vector<int> node_of_vertex_;  // GPU vertices: their node; others -1
  int first_gpu_vertex_ = 0;
  int nodes_ = 0;
};

}  // namespace gpufleet
