// `gpufleet topology SCENARIO [--dot [FILE]]`: the cluster fabric and where each replica sits, from the
// Boost.Graph view: topology, leaves, bisection bandwidth, hop counts from GPU 0, each replica's GPUs
// and TP link; with --dot, the fabric graph in Graphviz's language (to stdout without FILE).
#include <cstdio>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "models/catalog.h"
#include "sim/platform/placement.h"
#include "sim/platform/topology.h"
#include "sim/platform/tp_link.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/util/atomic_file.h"
#include "tools/gpufleet/commands.h"

namespace gpufleet {
namespace {

std::string FabricLine(const FabricSpec& spec, const FabricLayout& fabric) {
  std::string out = fmt::format("topology: {}", spec.topology);
  if (spec.topology == "rail-optimized") {
    out += fmt::format(", {} rail group(s) of up to {} nodes, {} rails each", fabric.leaves, spec.nodes_per_leaf,
                       fabric.rails);
  } else if (spec.topology != "star") {
    out += fmt::format(", {} leaf switch(es) of up to {} nodes", fabric.leaves, spec.nodes_per_leaf);
    if (spec.topology == "leaf-spine") out += fmt::format(", oversubscription {:g}:1", spec.oversubscription);
  }
  out += fmt::format("; latencies ({}): NIC {:g} us, switch {:g} us, intra-node hop {:g} us\n",
                     spec.preset.empty() ? "defaults" : "preset " + spec.preset, spec.nic_latency_s * 1e6,
                     spec.switch_latency_s * 1e6, spec.intra_latency_s * 1e6);
  return out;
}

}  // namespace

std::function<int()> AddTopologyCommand(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  auto dot = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("topology", "Show a scenario's fabric, replica placement and TP bandwidth");
  cmd->add_option("scenario", *path, "Scenario YAML file")->required();
  cmd->add_option("--catalog", *dir, "Catalog directory (default: the built-in models/catalog)");
  CLI::Option* dot_flag =
      cmd->add_option("--dot", *dot, "Write the fabric graph as Graphviz dot to FILE (to stdout without FILE)")
          ->expected(0, 1);
  return [path, dir, dot, dot_flag]() -> int {
    const bool dot_stdout = dot_flag->count() > 0 && dot->empty();
    if (!dot->empty()) {
      if (auto st = CheckOutputPath(*dot, "--dot"); !st.ok()) return ReportError(st);
    }
    auto catalog = Catalog::LoadFromDir(dir->empty() ? Catalog::DefaultDir() : *dir);
    if (!catalog.ok()) return ReportError(catalog.status());
    auto scenario = LoadScenario(*path, *catalog);
    if (!scenario.ok()) return ReportError(scenario.status());
    const ClusterLayout layout = LayoutCluster(scenario->cluster);
    const FabricGraph graph(layout, *catalog, scenario->fabric);
    if (dot_stdout || !dot->empty()) {
      std::ostringstream text;
      graph.WriteDot(text);
      if (dot_stdout) {
        std::fputs(text.str().c_str(), stdout);
        return 0;
      }
      if (auto st = WriteFileAtomically(*dot, text.str()); !st.ok()) return ReportError(st);
    }
    auto placed = PlaceReplicas({layout, graph.fabric(), scenario->power.rack_servers, scenario->deployment},
                                scenario->placement);
    if (!placed.ok()) return ReportError(placed.status());
    std::string out = fmt::format("fabric: {} nodes, {} GPUs, {} vertices, {} links, {} connected component(s)\n",
                                  layout.nodes.size(), layout.total_gpus, graph.vertex_count(), graph.edge_count(),
                                  graph.Components());
    out += FabricLine(scenario->fabric, graph.fabric());
    out += fmt::format("bisection bandwidth: {:.0f} GB/s one way between halves of the nodes\n", graph.BisectionGbps());
    std::map<int, int> hops;
    for (int h : graph.HopsFrom(0)) ++hops[h];
    out += fmt::format("hops from GPU 0 ({}):", graph.name(graph.gpu_vertex(0)));
    for (const auto& [h, count] : hops) {
      if (h > 0) out += fmt::format(" {} hops: {} GPU(s);", h, count);
    }
    out.back() = '\n';
    for (size_t n = 0; n < layout.nodes.size(); ++n) {
      const NodeSpec& node = *layout.nodes[n].node;
      out += fmt::format("  node {:>3} {:<24} {} x {:<16} {:<16} {:>6.0f} GB/s per GPU, {:>6.0f} GB/s out", n, node.name,
                         node.gpus_per_node, node.gpu, node.intra_fabric, node.intra_gbps, node.network_gbps);
      out += scenario->fabric.topology == "star" ? "\n" : fmt::format(", leaf {}\n", graph.fabric().leaf_of_node[n]);
    }
    if (layout.nodes.size() > 1) {
      out += fmt::format("  GPU-to-GPU across nodes 0 and 1: {:.0f} GB/s bottleneck\n",
                         graph.BottleneckGbps(0, layout.nodes[1].first_gpu));
    }
    out += fmt::format("replicas (placement: {}):\n", scenario->placement.type);
    for (const ReplicaPlacement& r : *placed) {
      const ReplicaGroup& g = scenario->deployment[r.group];
      std::string gpus;
      for (int i : r.gpus) gpus += (gpus.empty() ? "" : ",") + graph.name(graph.gpu_vertex(i));
      const TensorParallelLink link = TensorParallelLinkOf(layout, graph.fabric(), scenario->fabric, r);
      const NodeSpec& node = *layout.nodes[r.node_index].node;
      const double intra = node.intra_gbps > 0 ? node.intra_gbps : catalog->FindGpu(node.gpu)->pcie_gbps;
      std::string tp;
      if (r.nodes.size() > 1) {
        tp = fmt::format("  (TP links {:g} GB/s per GPU across {} nodes, +{:g} us per step)", link.gbps, r.nodes.size(),
                         link.latency_s * 1e6);
      } else if (r.gpus.size() > 1) {
        tp = fmt::format("  (TP links {:.0f} GB/s)", intra);
      }
      out += fmt::format("  {:>4} {:<14} TP{:<2} {}{}\n", r.replica, g.name, g.tensor_parallel, gpus, tp);
    }
    std::fputs(out.c_str(), stdout);
    return 0;
  };
}

}  // namespace gpufleet
