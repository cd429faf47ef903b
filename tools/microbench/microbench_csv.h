// The microbenchmark CSV (docs/microbench-csv.md, schema version 2): one row type, a writer and a
// reader/validator. Version 1 files (no kernel/timing/cache/energy columns) are still read, upgraded on
// the way in: attention rows were the suite's reference kernels, every row was host-launched. `gpufleet-microbench` writes it; `gpufleet calibrate --source microbench` reads it
// with ReadMicrobenchCsv. Reader errors are "PATH:LINE: what; expected ..." (LINE is the 1-based line in
// the file, comments included).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/microbench/method.h"
#include "tools/microbench/microbench_types.h"

namespace gpufleet::microbench {

inline constexpr int kMicrobenchSchemaVersion = 2;

// One measurement: the columns of docs/microbench-csv.md in order.
struct MicrobenchRow {
  int64_t schema_version = kMicrobenchSchemaVersion;
  std::string gpu_name;
  std::string driver_version;
  std::string cuda_version;
  Op op = Op::kGemm;
  Dtype dtype = Dtype::kNone;
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  int64_t batch = 0;
  int64_t q_tokens = 0;
  int64_t kv_tokens = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t bytes = 0;
  int64_t ranks = 1;
  double power_limit_w = 0;  // 0 when unknown (NVML unavailable)
  double time_us_median = 0;
  double time_us_p10 = 0;
  double time_us_p90 = 0;
  int64_t samples = 0;
  std::optional<double> mean_power_w;  // empty when NVML was unavailable
  std::optional<double> sm_clock_mhz;  // empty when NVML was unavailable
  // Schema version 2.
  Kernel kernel = Kernel::kCublasLt;
  TimingMode timing = TimingMode::kGraph;
  int64_t cold_copies = 1;        // copies of the cold operands rotated through (cache_rotation.h)
  int64_t working_set_bytes = 0;  // bytes one call touches; 0 when unknown
  int64_t l2_bytes = 0;           // the GPU's L2 capacity; 0 when unknown
  std::optional<double> window_ms;  // wall time of the timed samples
  std::optional<double> energy_j;   // per-GPU energy over the window (NVML counter)
  std::string clock_events;         // clock-event reasons seen ("none", "sw_power_cap|..."); empty: unknown

  bool operator==(const MicrobenchRow&) const = default;
};

// The header columns, in order.
const std::vector<std::string>& MicrobenchCsvColumns();
std::string MicrobenchCsvHeader();  // the columns joined by commas

// The per-row rules of the schema; InvalidArgument "what; expected ..." without a location.
absl::Status ValidateMicrobenchRow(const MicrobenchRow& row);

// The file text: each comment as a "# " line, the header, the rows. Fails (naming the row index) on a row
// ValidateMicrobenchRow rejects, on rows with different gpu_name, or on a comma or newline in a string.
absl::StatusOr<std::string> FormatMicrobenchCsv(const std::vector<MicrobenchRow>& rows,
                                                const std::vector<std::string>& comments);
// FormatMicrobenchCsv written to `path` (via a temporary file renamed into place).
absl::Status WriteMicrobenchCsv(const std::string& path, const std::vector<MicrobenchRow>& rows,
                                const std::vector<std::string>& comments);

// Parses file text; `path` only names the file in messages. `lines`, when given, receives each row's
// 1-based line in the text.
absl::StatusOr<std::vector<MicrobenchRow>> ParseMicrobenchCsv(const std::string& text, const std::string& path,
                                                              std::vector<int64_t>* lines = nullptr);
// Reads and checks a file: the header, every field's type and every rule of the schema.
absl::StatusOr<std::vector<MicrobenchRow>> ReadMicrobenchCsv(const std::string& path,
                                                             std::vector<int64_t>* lines = nullptr);

}  // namespace gpufleet::microbench
