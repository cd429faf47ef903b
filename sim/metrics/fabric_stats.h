// What the fabric carried in a run: KV-cache transfers of disaggregated serving, and per-link traffic.
//
// Filled by the engine (sim/engine/disaggregation.h) and summarised into RunSummary::fabric. Transfer
// times are from the end of the prefill iteration that produced the first token to the landing of the
// last flow; TTFT of a disaggregated request includes it (the first token reaches the user from the
// decode replica, once the cache has landed).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace gpufleet {

struct LinkStats {
  std::string name;
  double bandwidth_bps = 0;  // one direction (SimGrid links here are one direction of a split-duplex pair)
  double bytes = 0;
  double mean_util = 0;      // bytes / (bandwidth x run duration)
  double peak_util = 0;      // the highest used bandwidth seen at a transfer event, over the bandwidth
};

struct TransferLog {
  int64_t transfers = 0;          // landed
  double bytes = 0;               // of landed transfers
  std::deque<float> transfer_s;   // per landed transfer
  int64_t landed_without_room = 0;  // the decode replica had no free KV blocks (or batch slot) on landing
  double decode_kv_wait_s = 0;      // decode replicas idle while a cache was on its way to them, summed
  double decode_replica_s = 0;      // decode replicas x run duration (the wait's denominator)
};

}  // namespace gpufleet
