// Reader for Splitwise's end-to-end perf model CSV (splitwise-sim data/perf_model.csv): one serving
// measurement per row, times in milliseconds.
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/calibration/csv_table.h"
#include "models/calibration/measurements.h"
#include "traces/csv_fields.h"

namespace gpufleet {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr double kMsToS = 1e-3;

constexpr const char* kColumns =
    "model, hardware, prompt_size, batch_size, token_size, peak_power, average_power, prompt_time, "
    "token_time, e2e_time, tensor_parallel (Splitwise perf model)";
// Model and hardware names are kept as published ("llama2-70b", "bloom-176b"; "a100-80gb", "h100-80gb",
// "h100-80gb-pcap"); calibrate.cc maps them to the catalog by model_names.h's rule, with the row's location.

enum Column {
  kModel,
  kHw,
  kPrompt,
  kBatch,
  kTokens,
  kPeakPower,
  kAvgPower,
  kPromptTime,
  kTokenTime,
  kE2e,
  kTp,
  kCount
};
constexpr const char* kNames[kCount] = {"model",      "hardware",   "prompt_size",    "batch_size",
                                        "token_size", "peak_power", "average_power",  "prompt_time",
                                        "token_time", "e2e_time",   "tensor_parallel"};

}  // namespace

absl::StatusOr<std::vector<EndToEndSample>> ReadSplitwise(const std::string& path) {
  absl::StatusOr<std::unique_ptr<CsvTable>> table = CsvTable::Open(path, kColumns);
  if (!table.ok()) return table.status();
  CsvTable& t = **table;
  int col[kCount];
  for (int i = 0; i < kCount; ++i) {
    if (absl::Status s = t.Require(kNames[i], &col[i]); !s.ok()) return s;
  }
  std::vector<EndToEndSample> out;
  for (;;) {
    absl::StatusOr<bool> more = t.Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    EndToEndSample e;
    e.model = std::string(t.Field(col[kModel]));
    if (e.model.empty()) return t.RowError("model is empty; expected a model name such as 'llama2-70b'");
    e.hardware = std::string(t.Field(col[kHw]));
    if (e.hardware.empty()) return t.RowError("hardware is empty; expected a hardware name such as 'h100-80gb'");
    int64_t prompt, batch, tokens, tp;
    if (absl::Status s = t.Int(col[kPrompt], 1, kMaxInt, &prompt); !s.ok()) return s;
    if (absl::Status s = t.Int(col[kBatch], 1, kMaxInt, &batch); !s.ok()) return s;
    if (absl::Status s = t.Int(col[kTokens], 1, kMaxInt, &tokens); !s.ok()) return s;
    if (absl::Status s = t.Int(col[kTp], 1, kMaxInt, &tp); !s.ok()) return s;
    // Fractions of the GPU's TDP, zero where not measured; checked but not kept.
    double power;
    if (absl::Status s = t.NonNegativeNumber(col[kPeakPower], &power); !s.ok()) return s;
    if (absl::Status s = t.NonNegativeNumber(col[kAvgPower], &power); !s.ok()) return s;
    double prompt_ms, token_ms, e2e_ms;
    if (absl::Status s = t.PositiveNumber(col[kPromptTime], "milliseconds", &prompt_ms); !s.ok()) return s;
    if (absl::Status s = t.PositiveNumber(col[kTokenTime], "milliseconds", &token_ms); !s.ok()) return s;
    if (absl::Status s = t.PositiveNumber(col[kE2e], "milliseconds", &e2e_ms); !s.ok()) return s;
    e.origin = SampleOrigin{path, t.row(), e.model};
    e.tensor_parallel = static_cast<int>(tp);
    e.prompt_tokens = static_cast<int>(prompt);
    e.batch = static_cast<int>(batch);
    e.output_tokens = static_cast<int>(tokens);
    e.prefill_s = prompt_ms * kMsToS;
    e.decode_iteration_s = token_ms * kMsToS;
    e.e2e_s = e2e_ms * kMsToS;
    out.push_back(std::move(e));
  }
  if (out.empty()) return NoMeasurementRows(path);
  return out;
}

}  // namespace gpufleet
