// Benchmark program (not a test): times BuildPlatform for N nodes of one catalog node type and reports
// the hosts built, wall seconds and peak RSS, to show the platform build stays linear in nodes. Figures go
// to BENCHMARKS.md.
//
//   bench_platform_build NODES [NODE_TYPE [TOPOLOGY [NODES_PER_LEAF]]]
//     defaults: DGX-H100, star; NODES_PER_LEAF 32 for leaf-spine (at 2:1), fat-tree and rail-optimized
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Link.hpp>
#include <xbt/log.h>

#include "models/catalog.h"
#include "sim/platform/platform_builder.h"

int main(int argc, char** argv) {
  const long nodes = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  if (nodes <= 0) {
    std::fprintf(stderr, "usage: %s NODES [NODE_TYPE]\n", argv[0]);
    return 2;
  }
  auto catalog = gpufleet::Catalog::LoadFromDir(gpufleet::Catalog::DefaultDir());
  if (!catalog.ok()) {
    std::fprintf(stderr, "%s\n", std::string(catalog.status().message()).c_str());
    return 1;
  }
  const gpufleet::NodeSpec* node = catalog->FindNode(argc > 2 ? argv[2] : "DGX-H100");
  if (node == nullptr) {
    std::fprintf(stderr, "unknown node type\n");
    return 2;
  }
  gpufleet::FabricSpec fabric;
  if (argc > 3) {
    fabric.topology = argv[3];
    fabric.nodes_per_leaf = argc > 4 ? std::strtol(argv[4], nullptr, 10) : 32;
    if (fabric.topology == "leaf-spine") fabric.oversubscription = 2;
    if ((fabric.topology != "leaf-spine" && fabric.topology != "fat-tree" && fabric.topology != "rail-optimized" &&
         fabric.topology != "star") ||
        fabric.nodes_per_leaf <= 0) {
      std::fprintf(stderr, "TOPOLOGY: star, leaf-spine, fat-tree or rail-optimized; NODES_PER_LEAF >= 1\n");
      return 2;
    }
    if (fabric.topology == "star") fabric.nodes_per_leaf = 0;
  }
  xbt_log_control_set("root.thres:critical");
  int sg_argc = 1;
  char arg0[] = "bench";
  char* sg_argv[] = {arg0, nullptr};
  simgrid::s4u::Engine engine(&sg_argc, sg_argv);
  const auto start = std::chrono::steady_clock::now();
  const gpufleet::Platform platform = gpufleet::BuildPlatform({{node, static_cast<int>(nodes)}}, *catalog, fabric);
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<simgrid::s4u::Link*> links;
  double latency = 0;
  platform.gpus.front()->route_to(platform.gpus.back(), links, &latency);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("nodes %ld  GPUs %zu  %s  build %.3f s  first-to-last route %zu links  peak RSS %.0f MiB\n", nodes,
              platform.gpus.size(), fabric.topology.c_str(), build_s, links.size(), usage.ru_maxrss / 1024.0);
  std::fflush(stdout);
  std::_Exit(0);  // the build is what is timed; SimGrid's teardown of a large platform is not
}
