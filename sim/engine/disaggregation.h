// Disaggregated serving: prefill replicas hand each request, once its first token is out, to a decode
// replica, and its KV cache travels between them over the fabric (docs/disaggregation.md).
//
// A prefill replica calls Send at the end of the iteration that produced a request's first token (unless
// that token was its last): the decode-target policy (policies/transfer) picks a decode replica, and the
// cache (prompt tokens x the model's KV bytes per token) moves as SimGrid comms (kv_transport.h). The
// prefill replica keeps the cache's blocks until it lands. On landing the decode replica adopts the
// request: its first token reaches the user then (TTFT includes the transfer), and it joins the next
// decode step when the replica has blocks and a batch slot for it, else it waits in the queue.
//
// With layer-wise overlap (disaggregation.overlap: layerwise, as Splitwise does), the decode replica is
// chosen when the prefill iteration that completes the prompt starts (Stream), and every layer's cache
// but the last's streams during it; the last layer's (1/layers of the bytes) leaves when the iteration
// has ended and the rest has landed. The transfer time a request sees is from the iteration's end to
// that last landing. Streaming from the iteration's start is optimistic by at most one layer's compute
// time (the first layer's cache exists only after it).
//
// Live migration (migration.h) moves caches over the same transport: Migrate sends a running request's
// cache (its computed tokens) from one serving replica to another, which adopts it on landing; its token
// times are left as they were, so the stall shows in its next inter-token gap. Without decode replicas
// the object holds only migrations (no decode view, no decode-target policy).
#pragma once

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "policies/transfer/decode_target.h"
#include "sim/engine/kv_transport.h"
#include "sim/engine/sequence.h"
#include "sim/metrics/fabric_stats.h"

namespace gpufleet {

class Replica;
struct RunContext;

class Disaggregation {
 public:
  // `decodes` is the view of the decode replicas `decode_ids` (global indices, in view order); `layers` > 0
  // streams caches layer by layer (Stream), 0 sends each after its prefill.
  Disaggregation(std::vector<std::unique_ptr<Replica>>* replicas, std::vector<int> decode_ids,
                 std::unique_ptr<FleetView> decodes, std::unique_ptr<DecodeTarget> policy, double kv_bytes_per_token,
                 int layers, RunContext* ctx);
  ~Disaggregation();

  FleetView* decodes() { return decodes_.get(); }
  bool streams() const { return layers_ > 0; }
  // Layer-wise overlap only: the prefill iteration that completes `seq`'s prompt starts now on `from`.
  void Stream(const Replica& from, const Sequence& seq);
  // A prefill replica's hand-off, now: `seq` (copied) with the `blocks` its cache holds on `from`.
  void Send(const Replica& from, const Sequence& seq, int64_t blocks);
  // Live migration, now: `seq` (copied) leaves `from`, whose cache holds `blocks`, for replica `to`.
  void Migrate(const Replica& from, const Sequence& seq, int64_t blocks, int to);
  bool in_flight() const { return transport_.in_flight(); }
  // Lets transfers progress until one lands (handled at its landing date, which becomes the run's date:
  // true) or SimGrid's clock reaches `until_s` (false).
  bool WaitLanding(double until_s);

  // Requests whose caches are still on their way (a stopped run reports them unfinished).
  template <class Fn>
  void ForEachInFlight(Fn fn) const {
    for (const InFlight& t : in_flight_) {
      if (t.active && t.prefilled) fn(t.seq);
    }
  }
  size_t requests_in_flight() const;
  TransferLog& log() { return log_; }
  TransferLog& migrations() { return migrations_; }
  std::vector<LinkStats> Links(double duration_s) const { return transport_.Links(duration_s); }

 private:
  struct InFlight {
    bool active = false;
    bool prefilled = false;     // the prefill iteration has ended: `seq` and `blocks` are set
    bool streaming = false;     // layer-wise: the layers but the last are still on their way
    bool migration = false;     // a live migration, not a hand-off
    Sequence seq;
    int from = 0, to = 0;
    int64_t blocks = 0;
    double prefilled_s = 0;     // when the prefill iteration ended
    double bytes = 0;
  };
  // A new transfer's slot, its decode replica chosen and told the request is coming.
  int Open(const Replica& from, const Sequence& seq);
  int NewSlot();
  // Starts `bytes` of slot `slot`'s cache now.
  void StartFlows(int slot, double bytes);
  const std::vector<int>& HopsFrom(const Replica& from);

  std::vector<std::unique_ptr<Replica>>* replicas_;
  std::vector<int> decode_ids_;
  std::unique_ptr<FleetView> decodes_;
  std::unique_ptr<DecodeTarget> policy_;
  double kv_bytes_per_token_;
  int layers_;
  RunContext* ctx_;
  KvTransport transport_;
  std::vector<InFlight> in_flight_;  // by slot
  std::vector<int> free_slots_;
  std::vector<int> slot_of_transfer_;  // by KvTransport id
  // Layer-wise: prompts whose completing iteration is running, by the prefill replica's sequence.
  absl::flat_hash_map<const Sequence*, int> streaming_;
  std::vector<std::vector<int>> hops_;  // per prefill replica (global index), computed on first use
  TransferLog log_;
  TransferLog migrations_;
};

}  // namespace gpufleet
