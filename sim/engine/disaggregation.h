// Disaggregated serving: prefill replicas hand each request, once its first token is out, to a decode
// replica, and its KV cache travels between them over the fabric (docs/disaggregation.md).
//
// A prefill replica calls Send at the end of the iteration that produced a request's first token (unless
// that token was its last): the decode-target policy (policies/transfer) picks a decode replica, and the
// cache (prompt tokens x the model's KV bytes per token) moves as SimGrid comms (kv_transport.h). The
// prefill replica keeps the cache's blocks until it lands. On landing the decode replica adopts the
// request: its first token reaches the user then (TTFT includes the transfer), and it joins the next
// decode step when the replica has blocks and a batch slot for it, else it waits in the queue.
#pragma once

#include <memory>
#include <vector>

#include "policies/transfer/decode_target.h"
#include "sim/engine/kv_transport.h"
#include "sim/engine/sequence.h"
#include "sim/metrics/fabric_stats.h"

namespace gpufleet {

class Replica;
struct RunContext;

class Disaggregation {
 public:
  // `decodes` is the view of the decode replicas `decode_ids` (global indices, in view order).
  Disaggregation(std::vector<std::unique_ptr<Replica>>* replicas, std::vector<int> decode_ids,
                 std::unique_ptr<FleetView> decodes, std::unique_ptr<DecodeTarget> policy, double kv_bytes_per_token,
                 RunContext* ctx);
  ~Disaggregation();

  FleetView* decodes() { return decodes_.get(); }
  // A prefill replica's hand-off, now: `seq` (copied) with the `blocks` its cache holds on `from`.
  void Send(const Replica& from, const Sequence& seq, int64_t blocks);
  bool in_flight() const { return transport_.in_flight(); }
  // Lets transfers progress until one lands (handled at its landing date, which becomes the run's date:
  // true) or SimGrid's clock reaches `until_s` (false).
  bool WaitLanding(double until_s);

  // Requests whose caches are still on their way (a stopped run reports them unfinished).
  template <class Fn>
  void ForEachInFlight(Fn fn) const {
    for (const InFlight& t : in_flight_) {
      if (t.active) fn(t.seq);
    }
  }
  size_t requests_in_flight() const;
  TransferLog& log() { return log_; }
  std::vector<LinkStats> Links(double duration_s) const { return transport_.Links(duration_s); }

 private:
  struct InFlight {
    bool active = false;
    Sequence seq;
    int from = 0, to = 0;
    int64_t blocks = 0;
    double sent_s = 0;
    double bytes = 0;
  };
  const std::vector<int>& HopsFrom(const Replica& from);

  std::vector<std::unique_ptr<Replica>>* replicas_;
  std::vector<int> decode_ids_;
  std::unique_ptr<FleetView> decodes_;
  std::unique_ptr<DecodeTarget> policy_;
  double kv_bytes_per_token_;
  RunContext* ctx_;
  KvTransport transport_;
  std::vector<InFlight> in_flight_;  // by transfer id
  std::vector<std::vector<int>> hops_;  // per prefill replica (global index), computed on first use
  TransferLog log_;
};

}  // namespace gpufleet
