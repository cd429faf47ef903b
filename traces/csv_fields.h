// Field-level helpers shared by the CSV trace readers: splitting a line on commas, strict
// locale-independent number parsing (std::from_chars, no iostreams), and the "PATH:ROW: what; expected
// ..." error format every trace error uses.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace gpufleet {

// Splits `line` on ',' (no quoting), trimming spaces and tabs around each field. Stores the first
// `max_fields` fields in fields[] and returns the total number of fields in the line.
int SplitCsvFields(absl::string_view line, absl::string_view* fields, int max_fields);

// True when `line` holds nothing but spaces and tabs.
bool IsBlankLine(absl::string_view line);

// Strict parsers: the whole (trimmed) field must be the number. False on empty text, stray characters,
// overflow, or (ParseFiniteDouble) inf/nan.
bool ParseUint64(absl::string_view text, uint64_t* out);
bool ParseInt64(absl::string_view text, int64_t* out);
bool ParseFiniteDouble(absl::string_view text, double* out);

// `text` in single quotes for an error message, cut to 40 characters ("..." marks a cut).
std::string QuoteField(absl::string_view text);

// InvalidArgumentError("PATH:ROW: message"); `message` reads "what is wrong; expected ...".
absl::Status TraceRowError(absl::string_view path, int64_t row, absl::string_view message);

}  // namespace gpufleet
