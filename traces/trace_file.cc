#include "traces/trace_file.h"

#include "absl/strings/str_cat.h"
#include "traces/azure_csv_stream.h"
#include "traces/csv_fields.h"
#include "traces/native_csv_stream.h"

namespace gpufleet {

absl::Status CheckTraceFormat(absl::string_view format, absl::string_view what) {
  if (format == "azure" || format == "native") return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is ", QuoteField(format), "; expected 'azure' or 'native'"));
}

absl::StatusOr<std::unique_ptr<RequestStream>> OpenTraceFile(const std::string& path,
                                                             absl::string_view format, size_t buffer_bytes,
                                                             double max_gap_s) {
  if (absl::Status s = CheckTraceFormat(format); !s.ok()) return s;
  if (format == "azure") {
    absl::StatusOr<std::unique_ptr<AzureCsvStream>> s = AzureCsvStream::Open(path, buffer_bytes, max_gap_s);
    if (!s.ok()) return s.status();
    return std::unique_ptr<RequestStream>(*std::move(s));
  }
  absl::StatusOr<std::unique_ptr<NativeCsvStream>> s = NativeCsvStream::Open(path, buffer_bytes, max_gap_s);
  if (!s.ok()) return s.status();
  return std::unique_ptr<RequestStream>(*std::move(s));
}

absl::StatusOr<std::vector<LengthPair>> LoadLengthPairs(const std::string& path, absl::string_view format) {
  // The rows are a distribution of lengths here, not a timeline: long gaps do not matter.
  absl::StatusOr<std::unique_ptr<RequestStream>> stream =
      OpenTraceFile(path, format, CsvLineReader::kDefaultBufferBytes, kNoGapLimit);
  if (!stream.ok()) return stream.status();
  std::vector<LengthPair> pairs;
  TraceRequest r;
  for (;;) {
    absl::StatusOr<bool> more = (*stream)->Next(&r);
    if (!more.ok()) return more.status();
    if (!*more) break;
    pairs.push_back({r.prompt_tokens, r.output_tokens});
  }
  if (pairs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the trace has no rows; expected at least one (prompt, output) pair to resample"));
  }
  return pairs;
}

}  // namespace gpufleet
