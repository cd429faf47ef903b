// Measurement-interpolated iteration times (see measured_perf_model.h).
#include "models/measured_perf_model.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/calibration/measurements.h"

namespace gpufleet {
namespace {

// Piecewise linear through sorted knots; below the first knot `hold_low` keeps its value (else the first
// segment's slope continues), beyond the last the last segment's slope continues.
double Interpolate(const std::vector<std::pair<double, double>>& knots, double x, bool hold_low) {
  if (knots.size() == 1) return knots.front().second;
  if (x <= knots.front().first) {
    if (hold_low) return knots.front().second;
  }
  auto hi = std::upper_bound(knots.begin(), knots.end(), x,
                             [](double v, const std::pair<double, double>& k) { return v < k.first; });
  if (hi == knots.begin()) hi = knots.begin() + 1;
  if (hi == knots.end()) hi = knots.end() - 1;
  const auto lo = hi - 1;
  const double t = (x - lo->first) / (hi->first - lo->first);
  return std::max(0.0, lo->second + t * (hi->second - lo->second));
}

std::vector<std::pair<double, double>> Means(const std::map<double, std::pair<double, int>>& sums) {
  std::vector<std::pair<double, double>> out;
  for (const auto& [x, s] : sums) out.emplace_back(x, s.first / s.second);
  return out;
}

}  // namespace

absl::StatusOr<MeasuredPerfModel> MeasuredPerfModel::FromRows(const std::vector<EndToEndSample>& rows,
                                                              const std::string& hardware, int tensor_parallel,
                                                              const std::string& source) {
  std::map<double, std::pair<double, int>> prefill, decode;  // x -> (sum of seconds, count)
  int n = 0;
  for (const EndToEndSample& s : rows) {
    if (s.hardware != hardware || s.tensor_parallel != tensor_parallel) continue;
    ++n;
    auto& p = prefill[static_cast<double>(s.prompt_tokens) * s.batch];
    p.first += s.prefill_s;
    ++p.second;
    auto& d = decode[static_cast<double>(s.batch)];
    d.first += s.decode_iteration_s;
    ++d.second;
  }
  if (n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no rows of hardware '", hardware, "' at tensor parallelism ", tensor_parallel));
  }
  if (prefill.size() < 2 || decode.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": hardware '", hardware, "' at tensor parallelism ", tensor_parallel, " has ", prefill.size(),
        " distinct prompt-token totals and ", decode.size(), " distinct batch sizes; expected at least two of each to interpolate"));
  }
  MeasuredPerfModel m;
  m.prefill_ = Means(prefill);
  m.decode_ = Means(decode);
  m.label_ = absl::StrFormat(
      "measurement-interpolated (%s, %s TP%d: %d rows; prefill over %g-%g prompt tokens, decode over batch %g-%g; "
      "not a hardware model)",
      std::filesystem::path(source).filename().string(), hardware, tensor_parallel, n, m.prefill_.front().first,
      m.prefill_.back().first, m.decode_.front().first, m.decode_.back().first);
  return m;
}

absl::StatusOr<MeasuredPerfModel> MeasuredPerfModel::FromFile(const std::string& path, const std::string& hardware,
                                                              int tensor_parallel) {
  absl::StatusOr<std::vector<EndToEndSample>> rows = ReadSplitwise(path);
  if (!rows.ok()) return rows.status();
  return FromRows(*rows, hardware, tensor_parallel, path);
}

double MeasuredPerfModel::PrefillTime(double tokens) const { return Interpolate(prefill_, tokens, true); }
double MeasuredPerfModel::DecodeTime(double batch) const { return Interpolate(decode_, batch, false); }

double MeasuredPerfModel::IterationTime(std::span<const SeqWork> batch) const {
  double prompt_tokens = 0, decodes = 0;
  for (const SeqWork& s : batch) {
    if (s.new_tokens == 1 && s.context_tokens > 0) {
      ++decodes;
    } else {
      prompt_tokens += s.new_tokens;
    }
  }
  if (prompt_tokens == 0) return DecodeTime(decodes);
  // The decodes ride along as rows of the prefill's GEMMs, and each adds what one more sequence adds to
  // a measured decode step (its sampling, block table and attention): decode(D) - decode(1).
  const double extra = decodes > 1 ? std::max(0.0, DecodeTime(decodes) - DecodeTime(1)) : 0.0;
  return PrefillTime(prompt_tokens + decodes) + extra;
}

std::string MeasuredPerfModel::Label() const { return label_; }

}  // namespace gpufleet
