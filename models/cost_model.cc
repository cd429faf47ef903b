// Fleet pricing (see cost_model.h).
#include "models/cost_model.h"

namespace gpufleet {

FleetCost PriceFleet(const std::vector<NodeGroup>& cluster, const Catalog& catalog, const PriceSpec& prices) {
  FleetCost cost;
  for (const NodeGroup& g : cluster) {
    const NodeSpec& node = *g.node;
    const GpuSpec* gpu = catalog.FindGpu(node.gpu);
    CostLine line{node.name, node.gpu, g.count, node.gpus_per_node * g.count, 0, 0, ""};
    if (auto it = prices.node_usd_per_hour.find(node.name); it != prices.node_usd_per_hour.end()) {
      line.usd_per_node_hour = it->second;
      line.basis = "node override";
    } else if (auto jt = prices.gpu_usd_per_hour.find(node.gpu); jt != prices.gpu_usd_per_hour.end()) {
      line.usd_per_node_hour = jt->second * node.gpus_per_node;
      line.basis = "gpu override";
    } else if (node.price_usd_per_hour > 0) {
      line.usd_per_node_hour = node.price_usd_per_hour;
      line.basis = "catalog node";
    } else {
      line.usd_per_node_hour = (gpu != nullptr ? gpu->price_usd_per_hour : 0) * node.gpus_per_node;
      line.basis = "catalog gpu";
    }
    line.usd_per_hour = line.usd_per_node_hour * g.count;
    cost.usd_per_hour += line.usd_per_hour;
    cost.lines.push_back(line);
  }
  return cost;
}

}  // namespace gpufleet
