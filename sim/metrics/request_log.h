// Per-request outcomes and inter-token gaps of one run, collected as the simulation goes.
//
// Records are indexed by request id (arrival order); gaps are kept as (gap, count) pairs because every
// sequence of one decode iteration that last emitted at the same instant has the same gap, which keeps
// exact TBT percentiles affordable for runs of millions of requests and billions of tokens.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "sim/engine/sequence.h"
#include "sim/metrics/percentile.h"

namespace gpufleet {

struct RequestRecord {
  double arrival_s = 0;
  double ttft_s = 0;        // first token - arrival
  double e2e_s = 0;         // last token - arrival
  float queue_s = 0;        // first scheduled - arrival
  float tpot_s = 0;         // (e2e - ttft) / (output - 1); 0 for one-token outputs
  float max_tbt_s = 0;      // largest inter-token gap
  uint32_t prompt_tokens = 0;
  uint32_t output_tokens = 0;
  int32_t replica = -1;
  uint16_t preemptions = 0;
  uint8_t status = 0;       // kPending, kCompleted, kRejected
  uint8_t slo_met = 0;      // met every SLO of the scenario
  static constexpr uint8_t kPending = 0, kCompleted = 1, kRejected = 2;
};

// Per-request SLO thresholds (disabled ones are infinite).
struct RequestSloCheck {
  double ttft_s;
  double e2e_s;
  double tbt_s;
  // A request meets the TBT SLO when at most floor((1 - tbt_percentile/100) x its gaps) of its own
  // inter-token gaps exceed tbt_s (the nearest-rank percentile of its gaps is within the target).
  // TTFT and E2E are single values per request: compared with their targets directly.
  double tbt_percentile;
};

class RequestLog {
 public:
  explicit RequestLog(RequestSloCheck slo) : slo_(slo) {}

  void OnArrival(const TraceRequest& req);
  void OnRejected(const TraceRequest& req);
  void OnCompleted(const Sequence& seq, double now_s);
  void AddGaps(double gap_s, uint32_t count) { gaps_.push_back({static_cast<float>(gap_s), count}); }

  std::deque<RequestRecord>& records() { return records_; }
  const std::deque<RequestRecord>& records() const { return records_; }
  std::vector<WeightedSample>& gaps() { return gaps_; }
  const RequestSloCheck& slo() const { return slo_; }

 private:
  RequestSloCheck slo_;
  // A deque grows in fixed blocks: no doubling reserve, no copy on growth (10M records = 560 MB).
  std::deque<RequestRecord> records_;
  std::vector<WeightedSample> gaps_;
};

}  // namespace gpufleet
