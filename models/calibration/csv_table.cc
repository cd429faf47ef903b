#include "models/calibration/csv_table.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "traces/csv_fields.h"

namespace gpufleet {

absl::Status NoMeasurementRows(const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": no measurement rows; expected at least one row below the header"));
}

absl::StatusOr<std::unique_ptr<CsvTable>> CsvTable::Open(const std::string& path,
                                                         std::string expected_columns) {
  absl::StatusOr<std::unique_ptr<CsvLineReader>> reader = CsvLineReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<CsvTable> table(new CsvTable(*std::move(reader), std::move(expected_columns)));
  absl::string_view header;
  if (!table->reader_->NextLine(&header)) {
    if (!table->reader_->status().ok()) return table->reader_->status();
    return TraceRowError(path, 1,
                         absl::StrCat("the file is empty; expected columns ", table->expected_columns_));
  }
  if (IsBlankLine(header)) return table->HeaderError("line 1 is blank, not a header");
  const int n = SplitCsvFields(header, nullptr, 0);
  table->fields_.resize(n);
  SplitCsvFields(header, table->fields_.data(), n);
  for (absl::string_view name : table->fields_) {
    if (table->Find(name) >= 0) {
      return table->HeaderError(absl::StrCat("the header names column ", QuoteField(name), " twice"));
    }
    table->columns_.emplace_back(name);
  }
  return table;
}

int CsvTable::Find(absl::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

absl::Status CsvTable::Require(absl::string_view name, int* index) const {
  *index = Find(name);
  if (*index >= 0) return absl::OkStatus();
  return HeaderError(absl::StrCat("the header has no column ", QuoteField(name)));
}

absl::Status CsvTable::HeaderError(absl::string_view message) const {
  return TraceRowError(path(), 1, absl::StrCat(message, "; expected columns ", expected_columns_));
}

absl::StatusOr<bool> CsvTable::Next() {
  absl::string_view line;
  do {
    if (!reader_->NextLine(&line)) {
      if (!reader_->status().ok()) return reader_->status();
      return false;
    }
  } while (IsBlankLine(line));
  const int n = SplitCsvFields(line, fields_.data(), static_cast<int>(fields_.size()));
  if (n != static_cast<int>(columns_.size())) {
    return RowError(absl::StrCat("the row has ", n, n == 1 ? " field" : " fields", "; expected ",
                                 columns_.size(), " as in the header"));
  }
  return true;
}

absl::Status CsvTable::RowError(absl::string_view message) const {
  return TraceRowError(path(), row(), message);
}

absl::Status CsvTable::Int(int column, int64_t min, int64_t max, int64_t* out) const {
  if (ParseInt64(fields_[column], out) && *out >= min && *out <= max) return absl::OkStatus();
  return RowError(absl::StrCat(columns_[column], " is ", QuoteField(fields_[column]),
                               "; expected an integer from ", min, " to ", max));
}

absl::Status CsvTable::PositiveNumber(int column, absl::string_view unit, double* out) const {
  if (ParseFiniteDouble(fields_[column], out) && *out > 0) return absl::OkStatus();
  return RowError(absl::StrCat(columns_[column], " is ", QuoteField(fields_[column]),
                               "; expected a positive number", unit.empty() ? "" : " of ", unit));
}

absl::Status CsvTable::NonNegativeNumber(int column, double* out) const {
  if (ParseFiniteDouble(fields_[column], out) && *out >= 0) return absl::OkStatus();
  return RowError(
      absl::StrCat(columns_[column], " is ", QuoteField(fields_[column]), "; expected a number >= 0"));
}

}  // namespace gpufleet
