// Per-request outcomes and inter-token gaps of one run, collected as the simulation goes.
//
// Memory holds only what exact percentiles need, so that ten million requests fit in a few hundred MB:
// - one single-precision value per completed request and latency (TTFT, E2E, queue, TPOT: 16 bytes a
//   request; a float resolves 1 s to 0.06 us and 100 s to 8 us, below any figure a report prints), in
//   chunked columns that grow without the doubling copies of a vector;
// - the inter-token gaps as (gap, count) pairs: every sequence of one iteration that last emitted at the
//   same instant has the same gap, and pairs of equal gap are merged whenever the list fills its capacity;
// - counters (tokens, preemptions, SLOs met).
// The full per-request rows (`--per-request`) go to a spool on disk in batches as requests end, never
// into memory; rows come in the order requests end (rejected at arrival, completed, unfinished at a stop).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/status/status.h"
#include "sim/engine/sequence.h"
#include "sim/metrics/percentile.h"
#include "sim/metrics/spool.h"

namespace gpufleet {

// One row of the requests table (docs/sqlite-schema.md#requests).
struct RequestRow {
  uint64_t id = 0;
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
  uint8_t status = 0;       // kCompleted, kRejected, kUnfinished
  uint8_t slo_met = 0;      // met every SLO of the scenario
  float kv_transfer_s = -1; // disaggregated: its KV cache's move to the decode replica; -1: none
  static constexpr uint8_t kUnfinished = 0, kCompleted = 1, kRejected = 2;
};

using RequestSpool = Spool<RequestRow>;

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

// Completed requests' latencies, one entry per request in the order they completed (TPOT: only requests
// with two or more output tokens).
struct LatencyColumns {
  std::deque<float> ttft_s, e2e_s, queue_s, tpot_s;
};

class RequestLog {
 public:
  // `rows`, when given, receives every request's row (it outlives the log's last Flush).
  explicit RequestLog(RequestSloCheck slo, RequestSpool* rows = nullptr) : slo_(slo), rows_(rows) {}

  void OnRejected(const TraceRequest& req);
  void OnCompleted(const Sequence& seq, double now_s);
  // A request still queued or running when a stopped run ended.
  void OnUnfinished(const Sequence& seq);
  void AddGaps(double gap_s, uint32_t count);
  // Writes the rows still buffered to the spool; the first failed write's error, also on later calls.
  absl::Status Flush();

  LatencyColumns& latencies() { return latencies_; }
  std::vector<WeightedSample>& gaps() { return gaps_; }
  const RequestSloCheck& slo() const { return slo_; }
  int64_t completed() const { return completed_; }
  int64_t slo_met() const { return slo_met_; }
  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t output_tokens() const { return output_tokens_; }
  int64_t preemptions() const { return preemptions_; }
  // Completed disaggregated requests: their KV transfer times, TTFTs and E2Es summed (the transfer's share).
  struct TransferShare {
    int64_t requests = 0;
    double transfer_s = 0, ttft_s = 0, e2e_s = 0;
  };
  const TransferShare& transfer_share() const { return transfer_share_; }

 private:
  void Emit(const RequestRow& row);

  RequestSloCheck slo_;
  RequestSpool* rows_;
  std::vector<RequestRow> pending_rows_;  // a batch on its way to rows_
  absl::Status row_error_;
  LatencyColumns latencies_;
  std::vector<WeightedSample> gaps_;
  TransferShare transfer_share_;
  int64_t completed_ = 0, slo_met_ = 0, prompt_tokens_ = 0, output_tokens_ = 0, preemptions_ = 0;
};

}  // namespace gpufleet
