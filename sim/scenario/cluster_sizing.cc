// Cheapest cluster for a deployment (see cluster_sizing.h).
#include "sim/scenario/cluster_sizing.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_format.h"
#include "models/cost_model.h"

namespace gpufleet {
namespace {

// Nodes of `gpus_per_node` GPUs that first-fit placement fills with `groups`, in order: a replica takes the
// first node with enough free GPUs, and a new node when none has. PlaceReplicas on that many nodes makes
// the same choices, since it too takes the first node that fits. Nodes are indexed by free GPUs, so each
// replica costs O(gpus_per_node log nodes) rather than a scan of every node.
int FirstFitNodes(const std::vector<const ReplicaGroup*>& groups, int gpus_per_node) {
  std::vector<std::set<int>> by_free(static_cast<size_t>(gpus_per_node) + 1);
  int nodes = 0;
  for (const ReplicaGroup* g : groups) {
    for (int r = 0; r < g->replicas; ++r) {
      int node = std::numeric_limits<int>::max(), free = 0;
      for (int f = g->tensor_parallel; f <= gpus_per_node; ++f) {
        if (!by_free[f].empty() && *by_free[f].begin() < node) {
          node = *by_free[f].begin();
          free = f;
        }
      }
      if (node == std::numeric_limits<int>::max()) {
        node = nodes++;
        free = gpus_per_node;
      } else {
        by_free[free].erase(node);
      }
      by_free[free - g->tensor_parallel].insert(node);
    }
  }
  return nodes;
}

}  // namespace

absl::StatusOr<std::vector<NodeGroup>> SizeCluster(const std::vector<ReplicaGroup>& deployment, const Catalog& catalog,
                                                   const PriceSpec& prices) {
  std::vector<std::string> gpu_order;
  for (const ReplicaGroup& g : deployment) {
    if (std::find(gpu_order.begin(), gpu_order.end(), g.gpu->name) == gpu_order.end()) gpu_order.push_back(g.gpu->name);
  }
  std::vector<NodeGroup> cluster;
  for (const std::string& gpu : gpu_order) {
    std::vector<const ReplicaGroup*> groups;
    int max_tp = 0;
    for (const ReplicaGroup& g : deployment) {
      if (g.gpu->name != gpu) continue;
      groups.push_back(&g);
      max_tp = std::max(max_tp, g.tensor_parallel);
    }
    // (price per hour, nodes) of the best node type so far; catalog order (by name) breaks ties.
    std::tuple<double, int> best{std::numeric_limits<double>::infinity(), 0};
    const NodeSpec* best_node = nullptr;
    int largest = 0;
    for (const auto& [name, node] : catalog.nodes()) {
      if (node.gpu != gpu) continue;
      largest = std::max(largest, node.gpus_per_node);
      if (node.gpus_per_node < max_tp) continue;
      const int count = FirstFitNodes(groups, node.gpus_per_node);
      const std::tuple<double, int> candidate{PriceFleet({{&node, count}}, catalog, prices).usd_per_hour, count};
      if (best_node == nullptr || candidate < best) {
        best = candidate;
        best_node = &node;
      }
    }
    if (best_node == nullptr) {
      for (const ReplicaGroup* g : groups) {
        if (largest == 0) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "deployment '%s' needs %s GPUs but no node type of the catalog holds them, so the cluster cannot be "
              "sized automatically", g->name, gpu));
        }
        if (g->tensor_parallel > largest) {
          return absl::FailedPreconditionError(absl::StrFormat(
              "deployment '%s' has tensor_parallel %d but the largest %s node type of the catalog holds %d GPUs "
              "(cluster: auto keeps a TP group inside one node)", g->name, g->tensor_parallel, gpu, largest));
        }
      }
    }
    cluster.push_back({best_node, std::get<1>(best)});
  }
  return cluster;
}

}  // namespace gpufleet
