// Reader for gpufleet's own trace CSV:
//   # comment lines and blank lines are skipped
//   arrival_s,prompt_tokens,output_tokens[,priority][,class][,prefix_id,prefix_tokens]
//   0.000,512,128,1,0
// arrival_s is seconds (in [0, kMaxTraceArrivalS], non-decreasing, gaps within the arrival-gap rule of
// traces/arrival_gaps.h) used as-is; priority, class, prefix_id and prefix_tokens are optional
// integer columns, in any order after the first three (prefix_id and prefix_tokens together: a shared
// prompt prefix, id 0 for none, shorter than the prompt). Rows stream one at a time from disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "traces/arrival_gaps.h"
#include "traces/csv_line_reader.h"
#include "traces/request_stream.h"

namespace gpufleet {

inline constexpr absl::string_view kNativeTraceHeader = "arrival_s,prompt_tokens,output_tokens";

// Which optional columns a native header declares (-1 = absent) and how many columns a row has.
struct NativeColumns {
  int priority = -1;
  int service_class = -1;
  int prefix_id = -1;
  int prefix_tokens = -1;
  int count = 3;
};

struct NativeRow {
  double arrival_s = 0;
  uint32_t prompt_tokens = 1;
  uint32_t output_tokens = 1;
  int32_t priority = 0;
  int32_t service_class = 0;
  int32_t prefix_id = 0;
  int32_t prefix_tokens = 0;
};

// Line classification shared with the tail reader: true for blank lines and '#' comments.
bool IsNativeSkippedLine(absl::string_view line);
// Error messages read "what is wrong; expected ..." without the "PATH:ROW: " prefix.
absl::Status ParseNativeHeader(absl::string_view line, NativeColumns* columns);
// Checks the fields only, not the order of arrivals.
absl::Status ParseNativeRow(absl::string_view line, const NativeColumns& columns, NativeRow* row);

class NativeCsvStream : public RequestStream {
 public:
  // Opens `path` and checks its header (the first line that is neither blank nor a comment).
  // max_gap_s: the arrival-gap rule (traces/arrival_gaps.h); kDefaultGapRule unless the scenario sets it.
  static absl::StatusOr<std::unique_ptr<NativeCsvStream>> Open(
      const std::string& path, size_t buffer_bytes = CsvLineReader::kDefaultBufferBytes,
      double max_gap_s = kDefaultGapRule);

  absl::StatusOr<bool> Next(TraceRequest* out) override;
  double Progress() const override { return reader_->Progress(); }
  int64_t line_number() const { return reader_->line_number(); }
  const NativeColumns& columns() const { return columns_; }
  // Bytes up to the end of the header line (comments before it included).
  uint64_t header_bytes() const { return header_bytes_; }

 private:
  NativeCsvStream(std::unique_ptr<CsvLineReader> reader, NativeColumns columns, uint64_t header_bytes,
                  double max_gap_s)
      : reader_(std::move(reader)), columns_(columns), header_bytes_(header_bytes),
        gaps_(reader_->path(), max_gap_s) {}

  std::unique_ptr<CsvLineReader> reader_;
  NativeColumns columns_;
  uint64_t header_bytes_;
  double previous_arrival_s_ = 0;
  bool have_previous_ = false;
  uint64_t next_id_ = 0;
  ArrivalGapCheck gaps_;
};

}  // namespace gpufleet
