// Benchmark program (not a test): runs a scenario in-process and reports wall seconds, simulated requests
// per wall second, simulated events per second and peak RSS. Default scenario: azure-conv-x10, the 2023
// Azure conversation trace superposed ten times (~194k requests in an hour) on Llama-2-70B TP4 H100
// replicas. Figures go to BENCHMARKS.md.
//
//   bench_azure_conv_x10 [SCENARIO] [--max-requests N]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "models/catalog.h"
#include "sim/engine/simulation.h"
#include "sim/metrics/summary.h"
#include "sim/scenario/scenario_loader.h"

int main(int argc, char** argv) {
  std::string path = std::string(GPUFLEET_SOURCE_DIR) + "/scenarios/bench/azure-conv-x10.yaml";
  int64_t max_requests = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-requests") == 0 && i + 1 < argc) {
      max_requests = std::atoll(argv[++i]);
    } else if (argv[i][0] != '-') {
      path = argv[i];
    } else {
      std::fprintf(stderr, "usage: %s [SCENARIO] [--max-requests N]\n", argv[0]);
      return 2;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto catalog = gpufleet::Catalog::LoadFromDir(gpufleet::Catalog::DefaultDir());
  if (!catalog.ok()) {
    std::fprintf(stderr, "bench: %s\n", std::string(catalog.status().message()).c_str());
    return 2;
  }
  auto scenario = gpufleet::LoadScenario(path, *catalog);
  if (!scenario.ok()) {
    std::fprintf(stderr, "bench: %s\n", std::string(scenario.status().message()).c_str());
    return 2;
  }
  if (max_requests > 0) scenario->workload.max_requests = max_requests;
  gpufleet::RunOptions options;
  options.progress = false;
  auto run = gpufleet::RunSimulation(*scenario, *catalog, options);
  if (!run.ok()) {
    std::fprintf(stderr, "bench: %s\n", std::string(run.status().message()).c_str());
    return 1;
  }
  const gpufleet::RunSummary s = gpufleet::Summarize(*scenario, *catalog, *run);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t iterations = 0;
  for (const auto& r : run->replicas) iterations += r.stats.iterations;
  // Events the engine processed: one wake-up per arrival and one per replica iteration.
  const int64_t events = iterations + run->arrived;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("scenario            %s\n", path.c_str());
  std::printf("requests            %lld arrived, %lld completed\n", static_cast<long long>(s.requests_arrived),
              static_cast<long long>(s.requests_completed));
  std::printf("replicas            %zu\n", run->replicas.size());
  std::printf("simulated time      %.1f s\n", s.duration_s);
  std::printf("ttft p99            %.3f s (p50 %.3f s)\n", s.ttft.p99, s.ttft.p50);
  std::printf("tbt p99             %.3f s\n", s.tbt.p99);
  std::printf("wall                %.2f s\n", wall);
  std::printf("requests / wall s   %.0f\n", static_cast<double>(s.requests_completed) / wall);
  std::printf("events              %lld (%.0f / wall s)\n", static_cast<long long>(events), static_cast<double>(events) / wall);
  std::printf("peak RSS            %.1f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return s.requests_completed == s.requests_arrived - s.requests_rejected ? 0 : 1;
}
