// The router: picks the replica that serves an arriving request.
//
// The engine's router actor calls Route once per arrival with a snapshot of every replica's load. A
// router must return an index into `replicas`; it may keep state between calls (round robin does) but
// must be deterministic. A router whose parameters name deployment groups (size_buckets) checks them in
// Bind, which the scenario loader and the engine call once, before any Route. New routers live in one
// file in this folder and register with GF_REGISTER_POLICY(Router, "name", "description", factory).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "policies/policy_registry.h"
#include "traces/request_stream.h"

namespace gpufleet {

// What a router may know about a replica when a request arrives.
struct ReplicaLoad {
  int replica = 0;                 // global replica index
  int group = 0;                   // deployment group index
  int64_t outstanding_requests = 0;  // routed to it and not finished
  int64_t outstanding_tokens = 0;    // unprocessed prompt tokens + ungenerated output tokens of those
  int64_t kv_free_blocks = 0;
  int64_t kv_total_blocks = 0;
};

class Router {
 public:
  virtual ~Router() = default;
  // Index into `replicas` (non-empty) of the replica that takes `request`.
  virtual size_t Route(const TraceRequest& request, std::span<const ReplicaLoad> replicas) = 0;
  // The deployment's group names, in order (ReplicaLoad::group indexes them); called once after the
  // factory and before the first Route. A router whose parameters name groups resolves them here and
  // returns an error located in the scenario (file:line:col of the offending key) when one is not a
  // group. Default: nothing to resolve.
  virtual absl::Status Bind(const std::vector<std::string>& group_names) {
    (void)group_names;
    return absl::OkStatus();
  }
};

using RouterRegistry = PolicyRegistry<Router>;

}  // namespace gpufleet
