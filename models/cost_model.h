// What the fleet costs per hour: nodes at their catalog (or overridden) prices, plus energy when priced.
//
// Price of a node, first that applies: the scenario's node override; its GPU override x GPUs per node;
// the catalog's node price; the catalog's GPU price x GPUs per node. Energy is priced separately only when
// the scenario gives energy_usd_per_kwh (cloud hourly prices already include power).
#pragma once

#include <string>
#include <vector>

#include "models/catalog.h"
#include "sim/scenario/scenario.h"

namespace gpufleet {

struct CostLine {
  std::string node;          // node type
  std::string gpu;
  int count = 0;             // nodes
  int gpus = 0;              // GPUs in those nodes
  double usd_per_node_hour = 0;
  double usd_per_hour = 0;   // all `count` nodes
  std::string basis;         // which rule priced it: "node override", "gpu override", "catalog node", "catalog gpu"
};

struct FleetCost {
  std::vector<CostLine> lines;
  double usd_per_hour = 0;   // hardware only
};

FleetCost PriceFleet(const std::vector<NodeGroup>& cluster, const Catalog& catalog, const PriceSpec& prices);

}  // namespace gpufleet
