#include "traces/azure_csv_stream.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "traces/csv_fields.h"

namespace gpufleet {
namespace {

constexpr uint64_t kMaxTokens = std::numeric_limits<uint32_t>::max();

absl::Status ParseTokens(absl::string_view name, absl::string_view text, uint64_t* out) {
  if (!ParseUint64(text, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is ", QuoteField(text), "; expected a non-negative integer"));
  }
  if (*out > kMaxTokens) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is ", QuoteField(text), "; expected an integer at most ", kMaxTokens));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseAzureRow(absl::string_view line, AzureRow* row) {
  absl::string_view f[3];
  const int n = SplitCsvFields(line, f, 3);
  if (n != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("row has ", n, n == 1 ? " field" : " fields", "; expected 3 (", kAzureTraceHeader, ")"));
  }
  if (!ParseCivilTimestamp(f[0], &row->time)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TIMESTAMP is ", QuoteField(f[0]), "; expected a date and time like 2023-11-16 18:15:46.6805900"));
  }
  if (absl::Status s = ParseTokens("ContextTokens", f[1], &row->context_tokens); !s.ok()) return s;
  return ParseTokens("GeneratedTokens", f[2], &row->generated_tokens);
}

absl::StatusOr<std::unique_ptr<AzureCsvStream>> AzureCsvStream::Open(const std::string& path,
                                                                     size_t buffer_bytes, double max_gap_s) {
  absl::StatusOr<std::unique_ptr<CsvLineReader>> reader = CsvLineReader::Open(path, buffer_bytes);
  if (!reader.ok()) return reader.status();
  absl::string_view header;
  if (!(*reader)->NextLine(&header)) {
    if (!(*reader)->status().ok()) return (*reader)->status();
    return TraceRowError(path, 1, absl::StrCat("the file is empty; expected the header '", kAzureTraceHeader, "'"));
  }
  absl::string_view trimmed = header;
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
  if (trimmed != kAzureTraceHeader) {
    return TraceRowError(path, 1, absl::StrCat("header is ", QuoteField(header), "; expected '",
                                                kAzureTraceHeader, "' (Azure LLM trace format)"));
  }
  return std::unique_ptr<AzureCsvStream>(new AzureCsvStream(*std::move(reader), max_gap_s));
}

absl::StatusOr<bool> AzureCsvStream::Next(TraceRequest* out) {
  absl::string_view line;
  for (;;) {
    if (!reader_->NextLine(&line)) {
      if (!reader_->status().ok()) return reader_->status();
      if (absl::Status s = gaps_.Finish(); !s.ok()) return s;
      return false;
    }
    if (!IsBlankLine(line)) break;
  }
  AzureRow row;
  if (absl::Status s = ParseAzureRow(line, &row); !s.ok()) {
    return TraceRowError(reader_->path(), reader_->line_number(), s.message());
  }
  if (!have_first_) {
    first_ = previous_ = row.time;
    have_first_ = true;
  } else if (row.time < previous_) {
    absl::string_view f[1];
    SplitCsvFields(line, f, 1);
    return TraceRowError(
        reader_->path(), reader_->line_number(),
        absl::StrFormat("TIMESTAMP %s is %.7f s earlier than the previous row's; expected rows sorted by "
                        "time (equal timestamps are fine)",
                        QuoteField(f[0]), previous_.SecondsSince(row.time)));
  } else {
    // Checked on the timestamps themselves: a far-off date must not become a huge, or infinite, time.
    const double since_first = row.time.SecondsSince(first_);
    if (since_first > kMaxTraceArrivalS) {
      return TraceRowError(reader_->path(), reader_->line_number(),
                           absl::StrFormat("TIMESTAMP '%s' is %.10g s after the first row's '%s'; expected at most "
                                           "%s after it: a mistyped date?",
                                           FormatCivilTimestamp(row.time), since_first,
                                           FormatCivilTimestamp(first_), kMaxTraceArrivalText));
    }
    const CivilTimestamp previous = previous_;
    if (absl::Status s = gaps_.Add(row.time.SecondsSince(previous), reader_->line_number(),
                                   [&] {
                                     return absl::StrFormat("TIMESTAMP '%s' follows the previous row's '%s'",
                                                            FormatCivilTimestamp(row.time),
                                                            FormatCivilTimestamp(previous));
                                   });
        !s.ok()) {
      return s;
    }
  }
  previous_ = row.time;
  if (row.context_tokens == 0 || row.generated_tokens == 0) ++clamped_token_rows_;
  out->id = next_id_++;
  out->arrival_s = row.time.SecondsSince(first_);
  out->prompt_tokens = row.context_tokens == 0 ? 1 : static_cast<uint32_t>(row.context_tokens);
  out->output_tokens = row.generated_tokens == 0 ? 1 : static_cast<uint32_t>(row.generated_tokens);
  out->priority = 0;
  out->service_class = 0;
  out->prefix_id = 0;
  out->prefix_tokens = 0;
  return true;
}

}  // namespace gpufleet
