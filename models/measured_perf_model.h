// A perf model that interpolates measured serving times instead of modelling kernels: Splitwise's
// end-to-end table (perf_model_llama2-70b.csv: prefill time per (prompt tokens, batch), one decode step
// per batch, per hardware and TP). It replays what that serving stack measured, on exactly the
// configurations it measured; it is the reference the calibrated model is checked against in whole-trace
// replays (scenarios/validation/), not a model of other GPUs, models or stacks.
//
// An iteration of P prompt tokens (prefill chunks) and D decode sequences takes
//   prefill(P + D) + decode(D) - decode(1)   when it computes any prompt tokens: the decodes ride along
//                                  as rows of the same GEMMs (as in a chunked-prefill iteration), and each
//                                  decode sequence beyond the first adds what it adds to a measured decode
//                                  step (sampling, block tables, attention); Splitwise measured no mixed
//                                  iterations, so this composition is the model's one assumption;
//   decode(D)                      otherwise.
// prefill(T) is piecewise linear in the total prompt tokens T = batch x prompt of the measured rows (the
// mean of every row with that total: Splitwise's two arms, one prompt of 128..8,192 tokens and 2..64
// prompts of 512, agree within 5% where their totals meet), held at the smallest total's time below it
// (short prefills are launch-bound) and extended with the last segment's slope beyond the largest.
// decode(D) is piecewise linear in the batch D (the mean over the measured contexts, which move a step by
// under 5%), extended with the last segment's slope beyond the largest batch.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "models/perf_model.h"

namespace gpufleet {

struct EndToEndSample;

class MeasuredPerfModel final : public PerfModel {
 public:
  // From the rows of `hardware` at TP `tensor_parallel` among `rows`; an error when there are none, or
  // fewer than two distinct prefill totals or batches to interpolate between. `source` names the table.
  static absl::StatusOr<MeasuredPerfModel> FromRows(const std::vector<EndToEndSample>& rows, const std::string& hardware,
                                                    int tensor_parallel, const std::string& source);
  // Reads Splitwise's CSV at `path` (models/calibration/splitwise_reader.cc) and keeps `hardware`'s rows.
  static absl::StatusOr<MeasuredPerfModel> FromFile(const std::string& path, const std::string& hardware,
                                                    int tensor_parallel);

  double IterationTime(std::span<const SeqWork> batch) const override;
  std::string Label() const override;

  double PrefillTime(double tokens) const;  // prefill(T) above
  double DecodeTime(double batch) const;    // decode(D) above

 private:
  MeasuredPerfModel() = default;
  std::vector<std::pair<double, double>> prefill_;  // (total prompt tokens, seconds), sorted
  std::vector<std::pair<double, double>> decode_;   // (batch, seconds), sorted
  std::string label_;
};

}  // namespace gpufleet
