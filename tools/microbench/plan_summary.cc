// Dry-run output: plan summary and point list (see plan_summary.h).
#include "tools/microbench/plan_summary.h"

#include <cmath>

#include <fmt/format.h>

#include "absl/strings/str_join.h"

namespace gpufleet::microbench {
namespace {

template <class T>
std::string JoinNumbers(const std::vector<T>& v) {
  return absl::StrJoin(v, ",");
}

std::string JoinBytes(const std::vector<int64_t>& v) {
  std::vector<std::string> parts;
  for (int64_t b : v) {
    if (b >= (1 << 30) && b % (1 << 30) == 0) {
      parts.push_back(fmt::format("{}G", b >> 30));
    } else if (b >= (1 << 20) && b % (1 << 20) == 0) {
      parts.push_back(fmt::format("{}M", b >> 20));
    } else if (b >= 1024 && b % 1024 == 0) {
      parts.push_back(fmt::format("{}K", b >> 10));
    } else {
      parts.push_back(fmt::format("{}", b));
    }
  }
  return absl::StrJoin(parts, ",");
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f} s", std::ceil(seconds));
  const int64_t s = static_cast<int64_t>(std::ceil(seconds));
  if (s < 3600) return fmt::format("{} min {:02d} s", s / 60, s % 60);
  return fmt::format("{} h {:02d} min", s / 3600, (s % 3600) / 60);
}

std::string FormatPlanSummary(const Plan& plan, const PlanOptions& o, const PlanEstimate& e, const GpuSpec& gpu) {
  std::string out;
  out += fmt::format("models ({}): {}\n", plan.models.size(), absl::StrJoin(plan.models, ", "));
  std::vector<std::string> dtypes;
  for (Dtype d : o.dtypes) dtypes.push_back(DtypeName(d));
  const bool gemm = o.Selects(OpGroup::kGemm), attention = o.Selects(OpGroup::kAttention);
  if (gemm || attention) {
    std::vector<std::string> dtypes;
    for (Dtype d : o.dtypes) dtypes.push_back(DtypeName(d));
    out += fmt::format("TP degrees: {}   dtypes: {}\n", JoinNumbers(o.tp), absl::StrJoin(dtypes, ","));
  }
  if (gemm) {
    out += fmt::format("gemm tokens: {}\n  LM-head batches: {}   square: {}\n", JoinNumbers(o.tokens),
                       JoinNumbers(o.lm_head_batches), JoinNumbers(o.square_sizes));
  }
  if (attention) {
    out += fmt::format("attention prefill q_tokens: {} x context: {} (batch {})\n", JoinNumbers(o.prefill_q_tokens),
                       JoinNumbers(o.prefill_kv_tokens), o.prefill_batch);
    out += fmt::format("attention decode batch: {} x kv_tokens: {}\n", JoinNumbers(o.decode_batches),
                       JoinNumbers(o.decode_kv_tokens));
  }
  if (o.Selects(OpGroup::kMemory)) {
    out += fmt::format("memory buffers: {}   host copies: {}\n", JoinBytes(o.hbm_buffer_bytes),
                       JoinBytes(o.host_copy_bytes));
  }
  if (o.Selects(OpGroup::kCollectives)) {
    out += fmt::format("collectives: {} ranks, sizes {}\n", o.ranks, JoinBytes(o.collective_bytes));
  }
  out += fmt::format("\n{:<16} {:>8} {:>16}\n", "op", "points", "est. time");
  for (Op op : AllOps()) {
    auto it = e.points.find(op);
    if (it == e.points.end()) continue;
    out += fmt::format("{:<16} {:>8} {:>16}\n", OpName(op), it->second, FormatDuration(e.seconds.at(op)));
  }
  int64_t total = 0;
  for (const auto& [op, c] : e.points) total += c;
  out += fmt::format("{:<16} {:>8} {:>16}\n", "total", total, FormatDuration(e.total_seconds));
  out += fmt::format("(estimate for {}: roofline from its catalog figures, {:.0f} TFLOP/s fp16, {:.0f} GB/s HBM)\n",
                     gpu.name, gpu.fp16_tflops, gpu.hbm_gbps);
  if (!plan.notes.empty()) {
    out += "\nleft out:\n";
    for (const std::string& n : plan.notes) out += "  " + n + "\n";
  }
  return out;
}

std::string FormatPlanList(const Plan& plan, const GpuSpec& gpu, const MethodOptions& method) {
  std::string out;
  for (const Measurement& m : plan.points) {
    std::string from;
    if (!m.sources.empty()) {
      from = "  <- " + m.sources.front();
      if (m.sources.size() > 1) from += fmt::format(" (+{} more)", m.sources.size() - 1);
    }
    out += fmt::format("{:<72} {:>12.1f} us/call {:>8.2f} s{}\n", m.Describe(), EstimateCallSeconds(m, gpu) * 1e6,
                       EstimatePointSeconds(m, gpu, method), from);
  }
  return out;
}

}  // namespace gpufleet::microbench
