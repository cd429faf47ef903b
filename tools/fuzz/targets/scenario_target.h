// Fuzz target for the scenario loader (sim/scenario/scenario_loader.h): the input is a scenario's YAML
// text, loaded against the default catalog (read once). Relative trace paths resolve against the
// source tree's scenarios/ folder, so the shipped traces can be named.
//
// Besides "no crash", an accepted scenario must be one the engine can trust (scenario.h): a model, nodes
// and replica groups that exist, KV blocks for every group; and a synthetic workload, whose generator
// parameters come straight from the YAML, must yield requests that keep the stream contract.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "models/catalog.h"
#include "sim/scenario/scenario_loader.h"
#include "tools/fuzz/targets/fuzz_support.h"
#include "tools/fuzz/targets/trace_targets.h"
#include "traces/workload_stream.h"

namespace gpufleet::fuzz {

inline const Catalog& FuzzCatalog() {
  static const Catalog* catalog = [] {
    absl::StatusOr<Catalog> c = Catalog::LoadDefault();
    if (!c.ok()) Violation(std::string("the default catalog does not load: ") + std::string(c.status().message()));
    return new Catalog(*std::move(c));
  }();
  return *catalog;
}

inline int FuzzScenario(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Scenario> s =
      LoadScenarioFromString(text, "fuzz.yaml", std::string(GPUFLEET_SOURCE_DIR) + "/scenarios", FuzzCatalog());
  if (!s.ok()) {
    Require(!s.status().message().empty(), "an error without a message");
    return 0;
  }
  Require(s->model != nullptr && !s->cluster.empty() && !s->deployment.empty(), "a scenario without a fleet");
  Require(s->horizon_s > 0, "a horizon that is not > 0");
  for (const NodeGroup& n : s->cluster) Require(n.node != nullptr && n.count >= 1, "an empty node group");
  for (const ReplicaGroup& g : s->deployment) {
    Require(g.gpu != nullptr && g.tensor_parallel >= 1 && g.replicas >= 1, "an empty replica group");
    Require(g.memory_plan.num_blocks >= 1 && g.memory_plan.block_size >= 1, "a replica group without KV blocks");
  }
  Require(s->min_max_model_len() >= 1, "a max_model_len below one token");
  const WorkloadSpec& w = s->workload;
  if (w.source == WorkloadSpec::Source::kSynthetic && w.resample_path.empty()) {
    absl::StatusOr<std::unique_ptr<RequestStream>> stream = MakeRequestStream(w, s->seed, s->horizon_s);
    if (!stream.ok()) Violation(std::string("a loaded synthetic workload fails: ") + std::string(stream.status().message()));
    const Drained d = Drain(**stream, 2000);
    Require(d.status.ok(), "a synthetic workload that fails while running");
    for (const TraceRequest& r : d.requests) Require(r.arrival_s < s->horizon_s, "an arrival after the horizon");
  }
  return 0;
}

}  // namespace gpufleet::fuzz
