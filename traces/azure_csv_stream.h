// Reader for the Azure LLM inference trace CSV (AzureLLMInferenceTrace_{conv,code}.csv):
//   TIMESTAMP,ContextTokens,GeneratedTokens
//   2023-11-16 18:15:46.6805900,374,44
// Arrivals are seconds since the first row's timestamp. Rows stream one at a time from disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "traces/arrival_gaps.h"
#include "traces/civil_time.h"
#include "traces/csv_line_reader.h"
#include "traces/request_stream.h"

namespace gpufleet {

inline constexpr absl::string_view kAzureTraceHeader = "TIMESTAMP,ContextTokens,GeneratedTokens";

struct AzureRow {
  CivilTimestamp time;
  uint64_t context_tokens = 0;    // may be 0 in the file; the stream clamps it to 1
  uint64_t generated_tokens = 0;  // idem
};

// Parses one data line. On failure the error message reads "what is wrong; expected ..." without the
// "PATH:ROW: " prefix, which the caller adds.
absl::Status ParseAzureRow(absl::string_view line, AzureRow* row);

class AzureCsvStream : public RequestStream {
 public:
  // Opens `path` and checks its header line; NotFound for a missing file, InvalidArgument
  // ("PATH:1: header is ...; expected ...") for a wrong header.
  // max_gap_s: the arrival-gap rule (traces/arrival_gaps.h); kDefaultGapRule unless the scenario sets it.
  static absl::StatusOr<std::unique_ptr<AzureCsvStream>> Open(
      const std::string& path, size_t buffer_bytes = CsvLineReader::kDefaultBufferBytes,
      double max_gap_s = kDefaultGapRule);

  // Blank lines are skipped. Token counts of 0 are raised to 1 (and counted); timestamps earlier than
  // the previous row's are an error, and so are a timestamp more than kMaxTraceArrivalS after the first
  // row's and a gap the arrival-gap rule refuses. Ids are 0, 1, 2, ... in file order.
  absl::StatusOr<bool> Next(TraceRequest* out) override;
  double Progress() const override { return reader_->Progress(); }

  // Rows whose ContextTokens or GeneratedTokens was 0 and was raised to 1.
  int64_t clamped_token_rows() const { return clamped_token_rows_; }
  // 1-based line number of the row last returned.
  int64_t line_number() const { return reader_->line_number(); }
  // Bytes of the header line, line ending included.
  uint64_t header_bytes() const { return header_bytes_; }
  // Timestamp of the first row (arrival 0); valid once Next has returned a row.
  const CivilTimestamp& first_timestamp() const { return first_; }

 private:
  AzureCsvStream(std::unique_ptr<CsvLineReader> reader, double max_gap_s)
      : reader_(std::move(reader)), header_bytes_(reader_->bytes_consumed()), gaps_(reader_->path(), max_gap_s) {}

  std::unique_ptr<CsvLineReader> reader_;
  uint64_t header_bytes_;
  bool have_first_ = false;
  CivilTimestamp first_;
  CivilTimestamp previous_;
  uint64_t next_id_ = 0;
  int64_t clamped_token_rows_ = 0;
  ArrivalGapCheck gaps_;
};

}  // namespace gpufleet
