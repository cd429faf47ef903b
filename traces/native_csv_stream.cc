#include "traces/native_csv_stream.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "traces/csv_fields.h"

namespace gpufleet {
namespace {

constexpr int kMaxColumns = 7;

absl::Status HeaderError(absl::string_view line, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "header is ", QuoteField(line), why, "; expected '", kNativeTraceHeader,
      "' optionally followed by the columns 'priority', 'class', and 'prefix_id' with 'prefix_tokens' "
      "(native trace format)"));
}

absl::Status ParseTokens(absl::string_view name, absl::string_view text, uint32_t* out) {
  uint64_t v;
  if (!ParseUint64(text, &v) || v < 1 || v > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is ", QuoteField(text),
                                                   "; expected an integer from 1 to 4294967295"));
  }
  *out = static_cast<uint32_t>(v);
  return absl::OkStatus();
}

absl::Status ParseInt32(absl::string_view name, absl::string_view text, int64_t min, int32_t* out) {
  int64_t v;
  if (!ParseInt64(text, &v) || v < min || v > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is ", QuoteField(text), "; expected an integer from ", min, " to ",
                     std::numeric_limits<int32_t>::max()));
  }
  *out = static_cast<int32_t>(v);
  return absl::OkStatus();
}

}  // namespace

bool IsNativeSkippedLine(absl::string_view line) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return line.empty() || line.front() == '#';
}

absl::Status ParseNativeHeader(absl::string_view line, NativeColumns* columns) {
  absl::string_view f[kMaxColumns + 1];
  const int n = SplitCsvFields(line, f, kMaxColumns + 1);
  if (n < 3 || f[0] != "arrival_s" || f[1] != "prompt_tokens" || f[2] != "output_tokens") {
    return HeaderError(line, "");
  }
  if (n > kMaxColumns) return HeaderError(line, " (too many columns)");
  NativeColumns c;
  c.count = n;
  for (int i = 3; i < n; ++i) {
    int* slot = f[i] == "priority"        ? &c.priority
                : f[i] == "class"         ? &c.service_class
                : f[i] == "prefix_id"     ? &c.prefix_id
                : f[i] == "prefix_tokens" ? &c.prefix_tokens
                                          : nullptr;
    if (slot == nullptr) return HeaderError(line, absl::StrCat(" (unknown column ", QuoteField(f[i]), ")"));
    if (*slot >= 0) return HeaderError(line, absl::StrCat(" (column ", QuoteField(f[i]), " twice)"));
    *slot = i;
  }
  if ((c.prefix_id >= 0) != (c.prefix_tokens >= 0)) {
    return HeaderError(line, " (prefix_id and prefix_tokens come together)");
  }
  *columns = c;
  return absl::OkStatus();
}

absl::Status ParseNativeRow(absl::string_view line, const NativeColumns& columns, NativeRow* row) {
  absl::string_view f[kMaxColumns];
  const int n = SplitCsvFields(line, f, kMaxColumns);
  if (n != columns.count) {
    return absl::InvalidArgumentError(absl::StrCat("row has ", n, n == 1 ? " field" : " fields",
                                                   "; expected ", columns.count, " as in the header"));
  }
  // Bounded, not just finite: 1.79e308 is finite but becomes +inf once superposed or rate-multiplied.
  if (!ParseFiniteDouble(f[0], &row->arrival_s) || row->arrival_s < 0 || row->arrival_s > kMaxTraceArrivalS) {
    return absl::InvalidArgumentError(absl::StrCat("arrival_s is ", QuoteField(f[0]),
                                                   "; expected a number of seconds >= 0 and at most ",
                                                   kMaxTraceArrivalText));
  }
  if (absl::Status s = ParseTokens("prompt_tokens", f[1], &row->prompt_tokens); !s.ok()) return s;
  if (absl::Status s = ParseTokens("output_tokens", f[2], &row->output_tokens); !s.ok()) return s;
  row->priority = 0;
  row->service_class = 0;
  if (columns.priority >= 0) {
    if (absl::Status s = ParseInt32("priority", f[columns.priority], std::numeric_limits<int32_t>::min(),
                                    &row->priority);
        !s.ok()) {
      return s;
    }
  }
  if (columns.service_class >= 0) {
    if (absl::Status s = ParseInt32("class", f[columns.service_class], 0, &row->service_class); !s.ok()) {
      return s;
    }
  }
  row->prefix_id = 0;
  row->prefix_tokens = 0;
  if (columns.prefix_id >= 0) {
    if (absl::Status s = ParseInt32("prefix_id", f[columns.prefix_id], 0, &row->prefix_id); !s.ok()) return s;
    if (absl::Status s = ParseInt32("prefix_tokens", f[columns.prefix_tokens], 0, &row->prefix_tokens); !s.ok()) return s;
    if (row->prefix_id != 0 && (row->prefix_tokens < 1 || static_cast<uint32_t>(row->prefix_tokens) >= row->prompt_tokens)) {
      return absl::InvalidArgumentError(absl::StrCat("prefix_tokens is ", row->prefix_tokens,
                                                     "; expected from 1 to prompt_tokens - 1 (",
                                                     row->prompt_tokens - 1, ") for a shared prefix"));
    }
    if (row->prefix_id == 0) row->prefix_tokens = 0;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NativeCsvStream>> NativeCsvStream::Open(const std::string& path,
                                                                       size_t buffer_bytes, double max_gap_s) {
  absl::StatusOr<std::unique_ptr<CsvLineReader>> reader = CsvLineReader::Open(path, buffer_bytes);
  if (!reader.ok()) return reader.status();
  absl::string_view header;
  do {
    if (!(*reader)->NextLine(&header)) {
      if (!(*reader)->status().ok()) return (*reader)->status();
      return TraceRowError(path, (*reader)->line_number() + 1,
                           absl::StrCat("the file has no header; expected '", kNativeTraceHeader, "'"));
    }
  } while (IsNativeSkippedLine(header));
  NativeColumns columns;
  if (absl::Status s = ParseNativeHeader(header, &columns); !s.ok()) {
    return TraceRowError(path, (*reader)->line_number(), s.message());
  }
  const uint64_t header_bytes = (*reader)->bytes_consumed();
  return std::unique_ptr<NativeCsvStream>(new NativeCsvStream(*std::move(reader), columns, header_bytes, max_gap_s));
}

absl::StatusOr<bool> NativeCsvStream::Next(TraceRequest* out) {
  absl::string_view line;
  do {
    if (!reader_->NextLine(&line)) {
      if (!reader_->status().ok()) return reader_->status();
      if (absl::Status s = gaps_.Finish(); !s.ok()) return s;
      return false;
    }
  } while (IsNativeSkippedLine(line));
  NativeRow row;
  if (absl::Status s = ParseNativeRow(line, columns_, &row); !s.ok()) {
    return TraceRowError(reader_->path(), reader_->line_number(), s.message());
  }
  if (row.arrival_s < previous_arrival_s_) {
    return TraceRowError(reader_->path(), reader_->line_number(),
                         absl::StrFormat("arrival_s %.10g is earlier than the previous row's %.10g; "
                                         "expected non-decreasing arrival times",
                                         row.arrival_s, previous_arrival_s_));
  }
  if (have_previous_) {
    const double previous = previous_arrival_s_;
    if (absl::Status s = gaps_.Add(row.arrival_s - previous, reader_->line_number(),
                                   [&] {
                                     return absl::StrFormat("arrival_s %.10g follows the previous row's %.10g",
                                                            row.arrival_s, previous);
                                   });
        !s.ok()) {
      return s;
    }
  }
  have_previous_ = true;
  previous_arrival_s_ = row.arrival_s;
  out->id = next_id_++;
  out->arrival_s = row.arrival_s;
  out->prompt_tokens = row.prompt_tokens;
  out->output_tokens = row.output_tokens;
  out->priority = row.priority;
  out->service_class = row.service_class;
  out->prefix_id = static_cast<uint32_t>(row.prefix_id);
  out->prefix_tokens = static_cast<uint32_t>(row.prefix_tokens);
  return true;
}

}  // namespace gpufleet
