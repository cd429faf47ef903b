// Per-request outcome recording (see request_log.h).
#include "sim/metrics/request_log.h"

#include <algorithm>
#include <cmath>

namespace gpufleet {

void RequestLog::OnArrival(const TraceRequest& req) {
  if (records_.size() <= req.id) records_.resize(req.id + 1);
  RequestRecord& r = records_[req.id];
  r.arrival_s = req.arrival_s;
  r.prompt_tokens = req.prompt_tokens;
  r.output_tokens = req.output_tokens;
}

void RequestLog::OnRejected(const TraceRequest& req) {
  OnArrival(req);
  records_[req.id].status = RequestRecord::kRejected;
}

void RequestLog::OnCompleted(const Sequence& seq, double now_s) {
  RequestRecord& r = records_[seq.req.id];
  r.prompt_tokens = seq.prompt_tokens;
  r.output_tokens = seq.generated;
  r.ttft_s = seq.first_token_s - seq.req.arrival_s;
  r.e2e_s = now_s - seq.req.arrival_s;
  r.queue_s = static_cast<float>(seq.first_scheduled_s - seq.req.arrival_s);
  r.tpot_s = seq.generated > 1 ? static_cast<float>((r.e2e_s - r.ttft_s) / (seq.generated - 1)) : 0.0f;
  r.max_tbt_s = static_cast<float>(seq.max_gap_s);
  r.replica = seq.replica;
  r.preemptions = static_cast<uint16_t>(std::min<uint32_t>(seq.preemptions, 65535));
  r.status = RequestRecord::kCompleted;
  const uint32_t gaps = seq.generated > 0 ? seq.generated - 1 : 0;
  const double allowed = std::floor((1.0 - slo_.tbt_percentile / 100.0) * gaps + 1e-9);
  const bool tbt_ok = seq.gaps_over_tbt_target <= allowed;
  r.slo_met = (r.ttft_s <= slo_.ttft_s && r.e2e_s <= slo_.e2e_s && tbt_ok) ? 1 : 0;
}

}  // namespace gpufleet
