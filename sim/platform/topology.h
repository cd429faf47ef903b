// A Boost.Graph view of the cluster fabric, for checks and reports that need graph algorithms rather than
// a simulation: connectivity, and the widest-path (bottleneck) bandwidth between GPUs.
//
// Vertices are the cluster core, one switch per node and one per GPU; edges carry one-direction GB/s.
// Built from the cluster layout alone (no SimGrid engine), so the scenario loader and `gpufleet topology`
// can use it before anything runs. It mirrors the fabric sim/platform/platform_builder builds.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/platform/placement.h"

namespace gpufleet {

class FabricGraph {
 public:
  explicit FabricGraph(const ClusterLayout& layout, const Catalog& catalog);

  int gpu_vertex(int gpu) const { return first_gpu_vertex_ + gpu; }
  size_t vertex_count() const { return names_.size(); }
  size_t edge_count() const { return edges_.size(); }
  const std::string& name(int vertex) const { return names_[vertex]; }

  // Number of connected components (1 for a usable fabric).
  int Components() const;
  // Bandwidth of the widest path between two GPUs, GB/s (0 when disconnected).
  double BottleneckGbps(int gpu_a, int gpu_b) const;

 private:
  struct Edge {
    int a, b;
    double gbps;
  };
  std::vector<std::string> names_;
  std::vector<Edge> edges_;
  int first_gpu_vertex_ = 0;
};

// The narrowest link inside a replica's tensor-parallel group, GB/s (its GPUs' widest paths, pairwise).
double TensorParallelGbps(const FabricGraph& graph, const ReplicaPlacement& replica);

}  // namespace gpufleet
