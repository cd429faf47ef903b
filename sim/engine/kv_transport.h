// KV-cache transfers as SimGrid communications over the fabric, and what each link carried.
//
// A transfer moves one request's KV cache from a prefill replica's GPUs to a decode replica's GPUs. Each
// GPU holds a shard of the cache (its share of the KV heads), so a transfer is one flow per pair of ranks:
// with n = max(TP of the sender, TP of the receiver), flow f carries bytes/n from sender rank f x TPs / n
// to receiver rank f x TPr / n. Flows are SimGrid comms between the GPU hosts (Comm::sendto_async): they
// share every link on their routes with the other transfers in flight as SimGrid's flow model computes
// (latency, then max-min fair bandwidth sharing), which is the point of simulating them instead of
// dividing bytes by a bandwidth. A transfer lands when its last flow does.
//
// The engine's calendar loop calls WaitUntil whenever transfers are in flight, so that SimGrid's clock
// advances through every event date while comms progress (simulation.cc). Per link, the bytes that crossed
// it and the peak of its used bandwidth (SimGrid's link-load plugin, which the engine turns on before it
// builds a platform that will carry transfers: it sees every change of the flows' rates) are kept for
// the report.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

#include "absl/container/flat_hash_map.h"
#include "sim/metrics/fabric_stats.h"

namespace gpufleet {

class KvTransport {
 public:
  // Starts a transfer of `bytes` now (SimGrid's clock must be at the current date); returns its id, which
  // WaitUntil reports when it lands. Ids of landed transfers are reused.
  int Start(const std::vector<simgrid::s4u::Host*>& from, const std::vector<simgrid::s4u::Host*>& to, double bytes);
  bool in_flight() const { return !flows_.empty(); }
  // Lets SimGrid run until a transfer lands (its id; the clock is then the landing date) or its clock
  // reaches `until_s` (infinity: until the next landing), then -1. Only with transfers in flight.
  int WaitUntil(double until_s);
  // Every link that carried bytes, in the order first used; mean utilization over `duration_s`.
  std::vector<LinkStats> Links(double duration_s) const;

 private:
  struct Route {
    std::vector<int> links;  // indices into links_
  };
  struct LinkUse {
    const simgrid::s4u::Link* link = nullptr;
    double bytes = 0;
  };
  const Route& RouteOf(const simgrid::s4u::Host* from, const simgrid::s4u::Host* to);

  std::vector<simgrid::s4u::CommPtr> flows_;  // in flight
  std::vector<int> flow_transfer_;            // per flow in flight: its transfer
  std::vector<int> flows_left_;               // per transfer id
  std::vector<int> free_ids_;
  absl::flat_hash_map<std::pair<const simgrid::s4u::Host*, const simgrid::s4u::Host*>, Route> routes_;
  absl::flat_hash_map<const simgrid::s4u::Link*, int> link_index_;
  std::vector<LinkUse> links_;
};

}  // namespace gpufleet
