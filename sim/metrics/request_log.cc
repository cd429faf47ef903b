// Per-request outcome recording (see request_log.h).
#include "sim/metrics/request_log.h"

#include <algorithm>
#include <cmath>

namespace gpufleet {
namespace {

constexpr size_t kRowBatch = 4096;
// Below this many pairs the list just grows; merging pays only once it is long.
constexpr size_t kMinGapsToMerge = size_t{1} << 16;

// Sorts the pairs by gap and merges those of equal gap (exact: a count per distinct value).
void MergeEqualGaps(std::vector<WeightedSample>* gaps) {
  std::sort(gaps->begin(), gaps->end(), [](const WeightedSample& a, const WeightedSample& b) { return a.value < b.value; });
  size_t out = 0;
  for (size_t i = 0; i < gaps->size(); ++i) {
    if (out > 0 && (*gaps)[out - 1].value == (*gaps)[i].value) {
      (*gaps)[out - 1].count += (*gaps)[i].count;
    } else {
      (*gaps)[out++] = (*gaps)[i];
    }
  }
  gaps->resize(out);
}

}  // namespace

void RequestLog::AddGaps(double gap_s, uint32_t count) {
  if (gaps_.size() == gaps_.capacity() && gaps_.size() >= kMinGapsToMerge) {
    MergeEqualGaps(&gaps_);
    // Grow (by doubling) unless merging freed half of the list: a merge sorts the whole list, so it must
    // be followed by at least as many insertions as the list holds (O(log n) amortized per gap).
    if (gaps_.size() > gaps_.capacity() / 2) gaps_.reserve(gaps_.capacity() * 2);
  }
  gaps_.push_back({static_cast<float>(gap_s), count});
}

void RequestLog::Emit(const RequestRow& row) {
  if (rows_ == nullptr) return;
  pending_rows_.push_back(row);
  if (pending_rows_.size() >= kRowBatch) (void)Flush();
}

absl::Status RequestLog::Flush() {
  if (rows_ != nullptr && row_error_.ok()) {
    row_error_ = rows_->Append(pending_rows_);
  }
  pending_rows_.clear();
  return row_error_;
}

void RequestLog::OnRejected(const TraceRequest& req) {
  RequestRow row;
  row.id = req.id;
  row.arrival_s = req.arrival_s;
  row.prompt_tokens = req.prompt_tokens;
  row.output_tokens = req.output_tokens;
  row.status = RequestRow::kRejected;
  Emit(row);
}

void RequestLog::OnUnfinished(const Sequence& seq) {
  RequestRow row;
  row.id = seq.req.id;
  row.arrival_s = seq.req.arrival_s;
  row.prompt_tokens = seq.prompt_tokens;
  row.output_tokens = seq.req.output_tokens;
  row.status = RequestRow::kUnfinished;
  Emit(row);
}

void RequestLog::OnCompleted(const Sequence& seq, double now_s) {
  const double ttft = seq.first_token_s - seq.req.arrival_s;
  const double e2e = now_s - seq.req.arrival_s;
  const float queue = static_cast<float>(seq.first_scheduled_s - seq.req.arrival_s);
  const float tpot = seq.generated > 1 ? static_cast<float>((e2e - ttft) / (seq.generated - 1)) : 0.0f;
  const uint32_t gaps = seq.generated > 0 ? seq.generated - 1 : 0;
  const double allowed = std::floor((1.0 - slo_.tbt_percentile / 100.0) * gaps + 1e-9);
  const bool tbt_ok = seq.gaps_over_tbt_target <= allowed;
  const bool met = ttft <= slo_.ttft_s && e2e <= slo_.e2e_s && tbt_ok;

  ++completed_;
  slo_met_ += met ? 1 : 0;
  prompt_tokens_ += seq.prompt_tokens;
  output_tokens_ += seq.generated;
  preemptions_ += seq.preemptions;
  latencies_.ttft_s.push_back(static_cast<float>(ttft));
  latencies_.e2e_s.push_back(static_cast<float>(e2e));
  latencies_.queue_s.push_back(queue);
  if (seq.generated >= 2) latencies_.tpot_s.push_back(tpot);
  if (seq.kv_transfer_s >= 0) {
    ++transfer_share_.requests;
    transfer_share_.transfer_s += seq.kv_transfer_s;
    transfer_share_.ttft_s += ttft;
    transfer_share_.e2e_s += e2e;
  }

  if (rows_ == nullptr) return;
  RequestRow row;
  row.id = seq.req.id;
  row.arrival_s = seq.req.arrival_s;
  row.ttft_s = ttft;
  row.e2e_s = e2e;
  row.queue_s = queue;
  row.tpot_s = tpot;
  row.max_tbt_s = static_cast<float>(seq.max_gap_s);
  row.prompt_tokens = seq.prompt_tokens;
  row.output_tokens = seq.generated;
  row.replica = seq.replica;
  row.preemptions = static_cast<uint16_t>(std::min<uint32_t>(seq.preemptions, 65535));
  row.status = RequestRow::kCompleted;
  row.slo_met = met ? 1 : 0;
  row.kv_transfer_s = seq.kv_transfer_s;
  Emit(row);
}

}  // namespace gpufleet
