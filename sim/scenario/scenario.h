// A validated scenario: everything one simulation run needs, resolved against the catalog.
//
// Produced only by LoadScenario (scenario_loader.h), which has already checked every field, the
// cross-references and the feasibility of the deployment; the engine trusts it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/calibration/gpu_profile.h"
#include "models/catalog.h"
#include "models/power_model.h"
#include "models/kv_memory.h"
#include "models/perf_model.h"
#include "policies/policy_binding.h"
#include "policies/policy_registry.h"
#include "traces/workload_spec.h"

namespace gpufleet {

struct NodeGroup {
  const NodeSpec* node = nullptr;
  int count = 0;
};

// A set of identical replicas of the model.
struct ReplicaGroup {
  std::string name;
  const GpuSpec* gpu = nullptr;
  int tensor_parallel = 1;
  int replicas = 1;
  PolicyConfig scheduler;
  MemoryConfig memory;       // includes block size, max batched tokens, max batch size, max_model_len
  MemoryPlan memory_plan;    // computed at load time
  GpuProfile profile;        // perf_model "calibrated": the GPU's calibration profile, resolved at load time
  double power_limit_w = 0;  // every GPU of the group capped here; 0: the GPU's default limit (its TDP)
  GpuPowerParams power;      // the GPU's power model: fitted file, else derived, then the scenario's gpu_power
  // What its replicas serve: "mixed" (whole requests, prefill and decode), "prefill" (the prompt and first
  // token, then the KV cache moves to a decode replica), "decode" (requests whose KV arrived from prefill).
  std::string role = "mixed";
  double prefix_cache = 0;   // share of the KV pool kept as a shared-prefix cache (sim/engine/prefix_cache.h); 0: none
};

struct Slo {
  bool enabled = false;
  double target_s = 0;
  double percentile = 99;    // fleet-level check: this percentile of the metric <= target
};

struct SloSpec {
  Slo ttft, tbt, e2e;
};

// The `power:` section: the facility the cluster's servers sit in.
struct PowerSpec {
  double pue = 1.0;                  // facility power = IT (servers) power x PUE
  double budget_w = 0;               // IT power budget of the cluster; 0: none
  double telemetry_interval_s = 1.0; // how often the cluster's power is read
  double breaker_window_s = 5.0;     // over budget this long without a break trips a breaker
  bool idle_servers_off = false;     // servers that hold no replica: off (true) or idle (false)
  double carbon_g_per_kwh = 0;       // 0: carbon not reported
  // Nested domains: racks (PDUs) of `rack_servers` consecutive servers in cluster order, rows of
  // `row_racks` consecutive racks; 0: none. Each has its own budget (0: readings only).
  int64_t rack_servers = 0;
  double rack_budget_w = 0;
  int64_t row_racks = 0;
  double row_budget_w = 0;
  double actuation_delay_s = 1.0;    // a controller's new limits reach the GPUs this long after a reading
  PolicyConfig controller;           // policies/power: sets power limits at each reading (type "none": never)
};

// The `fabric:` section: the scale-out network joining the cluster's nodes (docs/fabric.md). Inside a node
// the fabric is the node catalog's (intra_fabric, intra_gbps); bandwidths are always the nodes'.
struct FabricSpec {
  std::string topology = "star";  // star | leaf-spine | fat-tree | rail-optimized
  std::string preset;             // models/catalog/fabrics.yaml entry the latencies came from; "": the defaults
  int64_t nodes_per_leaf = 0;     // servers under one leaf switch (rail-optimized: one rail group); star: 0
  double oversubscription = 1;    // leaf-spine: a leaf's downlink:uplink bandwidth; fat-tree and rails: 1
  // Latencies: the preset's, then the scenario's overrides. The defaults are the catalog's `generic`
  // entry (tests/fabric_test.cc keeps them equal), so code that builds a platform without a scenario
  // gets the same routes as a scenario without a fabric section.
  double nic_latency_s = 5e-6;    // one NIC traversal
  double switch_latency_s = 0;    // one switch traversal
  double intra_latency_s = 1e-6;  // one hop inside a node (GPU to its node's switch)
};

// The `disaggregation:` section: how prefill replicas hand requests to decode replicas (docs/disaggregation.md).
struct DisaggregationSpec {
  PolicyConfig decode_target;     // policies/transfer: the decode replica that receives a prefilled request
  std::string overlap = "none";   // "none": a cache leaves after its prefill; "layerwise": layers stream during it
};

struct PriceSpec {
  std::map<std::string, double> gpu_usd_per_hour;   // overrides of the catalog, by GPU name
  std::map<std::string, double> node_usd_per_hour;  // overrides of the catalog, by node name
  double energy_usd_per_kwh = 0;                     // 0: energy is included in the hourly prices
};

// The latest simulated time a run may reach (horizon_s, limits.max_sim_time_s, the engine's bound). Beyond
// it a double's resolution (0.12 us at 1e9 s, 2048 s at 9.2e18 s) is too coarse for the sub-millisecond
// steps of iterations, and a run that long says nothing a capacity planner can use.
inline constexpr double kMaxSimTimeS = 1e9;

struct Scenario {
  std::string path;              // the scenario file
  std::string text;              // its full text, stored with every run
  std::string name;
  uint64_t seed = 0;
  double horizon_s = 0;          // arrivals stop here (infinity: when the workload ends)
  double max_sim_time_s = 0;     // limits.max_sim_time_s; 0: the engine's default (sim/engine/run_guard.h)
  std::vector<NodeGroup> cluster;
  bool cluster_auto = false;     // `cluster: auto` or no cluster: sized from the deployment (cluster_sizing.h)
  const LlmSpec* model = nullptr;
  std::vector<ReplicaGroup> deployment;
  PerfModelSpec perf_model;
  PolicyConfig router;
  // policies/admission: which arrivals enter (the loader sets it; "none", all of them, for scenarios built in code)
  PolicyConfig admission{"none", "", YAML::Node(YAML::NodeType::Map), "admission"};
  WorkloadSpec workload;
  std::string overlength = "reject";  // requests longer than max_model_len: "reject" or "truncate"
  SloSpec slos;
  PriceSpec prices;
  PowerSpec power;
  FabricSpec fabric;
  // policies/placement: which GPUs each replica takes (the loader sets it; first fit for scenarios built in code)
  PolicyConfig placement{"first_fit", "", YAML::Node(YAML::NodeType::Map), "placement"};
  DisaggregationSpec disaggregation;
  // policies/migration: live migration between serving replicas (the loader sets it; none for scenarios built in code)
  PolicyConfig migration{"none", "", YAML::Node(YAML::NodeType::Map), "migration"};

  int total_replicas() const;
  std::vector<std::string> group_names() const;  // deployment[i].name, in order
  PolicyBinding binding() const;                 // what policies are bound with (policy_binding.h)
  int64_t min_max_model_len() const;
};

}  // namespace gpufleet
