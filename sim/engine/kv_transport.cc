// KV-cache transfers over the SimGrid fabric (see kv_transport.h).
#include "sim/engine/kv_transport.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <simgrid/plugins/load.h>
#include <simgrid/s4u/Engine.hpp>

namespace sg4 = simgrid::s4u;

namespace gpufleet {

const KvTransport::Route& KvTransport::RouteOf(const sg4::Host* from, const sg4::Host* to) {
  auto [it, inserted] = routes_.try_emplace({from, to});
  if (inserted) {
    std::vector<sg4::Link*> links;
    double latency = 0;
    from->route_to(to, links, &latency);
    for (const sg4::Link* l : links) {
      auto [li, added] = link_index_.try_emplace(l, static_cast<int>(links_.size()));
      if (added) {
        links_.push_back({l, 0});
        sg_link_load_track(l);  // before any flow crosses it
      }
      it->second.links.push_back(li->second);
    }
  }
  return it->second;
}

int KvTransport::Start(const std::vector<sg4::Host*>& from, const std::vector<sg4::Host*>& to, double bytes) {
  int id;
  if (free_ids_.empty()) {
    id = static_cast<int>(flows_left_.size());
    flows_left_.push_back(0);
  } else {
    id = free_ids_.back();
    free_ids_.pop_back();
  }
  const size_t tp_from = from.size(), tp_to = to.size();
  const size_t n = std::max(tp_from, tp_to);
  // Whole bytes per flow, at least one: SimGrid sizes comms in bytes.
  const auto flow_bytes = static_cast<uint64_t>(std::max(1.0, std::ceil(bytes / static_cast<double>(n))));
  for (size_t f = 0; f < n; ++f) {
    const sg4::Host* src = from[f * tp_from / n];
    const sg4::Host* dst = to[f * tp_to / n];
    const Route& route = RouteOf(src, dst);
    for (int l : route.links) links_[static_cast<size_t>(l)].bytes += static_cast<double>(flow_bytes);
    flows_.push_back(sg4::Comm::sendto_async(const_cast<sg4::Host*>(src), const_cast<sg4::Host*>(dst), flow_bytes));
    flow_transfer_.push_back(id);
  }
  flows_left_[static_cast<size_t>(id)] = static_cast<int>(n);
  return id;
}

int KvTransport::WaitUntil(double until_s) {
  while (!flows_.empty()) {
    const double timeout = until_s - sg4::Engine::get_clock();
    ssize_t done;
    if (std::isinf(until_s)) {
      done = sg4::Comm::wait_any(flows_);
    } else if (timeout > 0) {
      done = sg4::Comm::wait_any_for(flows_, timeout);
    } else {
      done = sg4::Comm::test_any(flows_);
    }
    if (done < 0) return -1;
    const int id = flow_transfer_[static_cast<size_t>(done)];
    flows_[static_cast<size_t>(done)] = std::move(flows_.back());
    flows_.pop_back();
    flow_transfer_[static_cast<size_t>(done)] = flow_transfer_.back();
    flow_transfer_.pop_back();
    if (--flows_left_[static_cast<size_t>(id)] == 0) {
      free_ids_.push_back(id);
      return id;
    }
  }
  return -1;
}

std::vector<LinkStats> KvTransport::Links(double duration_s) const {
  std::vector<LinkStats> out;
  for (const LinkUse& u : links_) {
    const double bps = u.link->get_bandwidth();
    out.push_back({u.link->get_name(), bps, u.bytes, duration_s > 0 && bps > 0 ? u.bytes / (bps * duration_s) : 0,
                   bps > 0 ? std::min(1.0, sg_link_get_max_instantaneous_load(u.link) / bps) : 0});
  }
  return out;
}

}  // namespace gpufleet
