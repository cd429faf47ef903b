// `gpufleet topology SCENARIO`: the cluster fabric and where each replica sits, from the Boost.Graph view.
#include <cstdio>

#include <fmt/format.h>

#include "models/catalog.h"
#include "sim/platform/topology.h"
#include "sim/scenario/scenario_loader.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {

std::function<int()> AddTopologyCommand(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("topology", "Show a scenario's fabric, replica placement and TP bandwidth");
  cmd->add_option("scenario", *path, "Scenario YAML file")->required();
  cmd->add_option("--catalog", *dir, "Catalog directory (default: the built-in models/catalog)");
  return [path, dir]() -> int {
    auto catalog = Catalog::LoadFromDir(dir->empty() ? Catalog::DefaultDir() : *dir);
    if (!catalog.ok()) return ReportError(catalog.status());
    auto scenario = LoadScenario(*path, *catalog);
    if (!scenario.ok()) return ReportError(scenario.status());
    const ClusterLayout layout = LayoutCluster(scenario->cluster);
    auto placed = PlaceReplicas(layout, scenario->deployment);
    if (!placed.ok()) return ReportError(placed.status());
    const FabricGraph graph(layout, *catalog);
    std::string out = fmt::format("fabric: {} nodes, {} GPUs, {} vertices, {} links, {} connected component(s)\n",
                                  layout.nodes.size(), layout.total_gpus, graph.vertex_count(), graph.edge_count(),
                                  graph.Components());
    for (size_t n = 0; n < layout.nodes.size(); ++n) {
      const NodeSpec& node = *layout.nodes[n].node;
      out += fmt::format("  node {:>3} {:<24} {} x {:<16} {:<16} {:>6.0f} GB/s per GPU, {:>6.0f} GB/s out\n", n, node.name,
                         node.gpus_per_node, node.gpu, node.intra_fabric, node.intra_gbps, node.network_gbps);
    }
    if (layout.nodes.size() > 1) {
      out += fmt::format("  GPU-to-GPU across nodes 0 and 1: {:.0f} GB/s bottleneck\n",
                         graph.BottleneckGbps(0, layout.nodes[1].first_gpu));
    }
    out += "replicas:\n";
    for (const ReplicaPlacement& r : *placed) {
      const ReplicaGroup& g = scenario->deployment[r.group];
      std::string gpus;
      for (int i : r.gpus) gpus += (gpus.empty() ? "" : ",") + graph.name(graph.gpu_vertex(i));
      const double tp_gbps = TensorParallelGbps(graph, r);
      out += fmt::format("  {:>4} {:<14} TP{:<2} {}{}\n", r.replica, g.name, g.tensor_parallel, gpus,
                         r.gpus.size() > 1 ? fmt::format("  (TP links {:.0f} GB/s)", tp_gbps) : "");
    }
    std::fputs(out.c_str(), stdout);
    return 0;
  };
}

}  // namespace gpufleet
