// Opens a trace file by format name ("azure" or "native") as a RequestStream, and loads just the
// (prompt, output) length pairs of a trace for synthetic workloads that resample them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "traces/arrival_gaps.h"
#include "traces/csv_line_reader.h"
#include "traces/request_stream.h"

namespace gpufleet {

// InvalidArgument unless `format` is "azure" or "native"; `what` names the option in the message.
absl::Status CheckTraceFormat(absl::string_view format, absl::string_view what = "trace_format");

// Opens `path` in `format` and checks its header (see AzureCsvStream / NativeCsvStream). max_gap_s:
// the arrival-gap rule (traces/arrival_gaps.h).
absl::StatusOr<std::unique_ptr<RequestStream>> OpenTraceFile(
    const std::string& path, absl::string_view format,
    size_t buffer_bytes = CsvLineReader::kDefaultBufferBytes, double max_gap_s = kDefaultGapRule);

struct LengthPair {
  uint32_t prompt_tokens;
  uint32_t output_tokens;
};

// Every row's (prompt, output) pair, in file order: 8 bytes per row. InvalidArgument for a malformed
// row or a file without rows.
absl::StatusOr<std::vector<LengthPair>> LoadLengthPairs(const std::string& path, absl::string_view format);

}  // namespace gpufleet
