// A CSV file whose first line names its columns, read row by row with columns looked up by name: the
// shared front end of the measurement readers. Errors follow the trace format "PATH:ROW: what; expected
// ...", the header being row 1. No quoting (the published measurement files use none).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "traces/csv_line_reader.h"

namespace gpufleet {

// "PATH: no measurement rows; ...": every measurement reader refuses a file with a header but no rows,
// so no fit or report is ever made from nothing.
absl::Status NoMeasurementRows(const std::string& path);

class CsvTable {
 public:
  // Opens `path` and reads its header from line 1. `expected_columns` describes the columns the caller
  // needs; header errors end with "; expected columns <expected_columns>".
  static absl::StatusOr<std::unique_ptr<CsvTable>> Open(const std::string& path,
                                                        std::string expected_columns);

  const std::string& path() const { return reader_->path(); }
  const std::vector<std::string>& columns() const { return columns_; }
  // Index of the column named `name`, or -1.
  int Find(absl::string_view name) const;
  // Sets *index to the column named `name`; "PATH:1: the header has no column 'NAME'; expected columns
  // ..." when there is none.
  absl::Status Require(absl::string_view name, int* index) const;
  // "PATH:1: MESSAGE; expected columns ...", for a header the caller rejects.
  absl::Status HeaderError(absl::string_view message) const;

  // Moves to the next row that is not blank: true, false at the end of the file, or an error (a read
  // error, or a row whose field count differs from the header's).
  absl::StatusOr<bool> Next();
  // 1-based line number of the current row.
  int64_t row() const { return reader_->line_number(); }
  absl::string_view Field(int column) const { return fields_[column]; }
  // "PATH:ROW: MESSAGE" for the current row.
  absl::Status RowError(absl::string_view message) const;

  // Typed fields of the current row; an error names the path, row, column and text, and the expectation.
  absl::Status Int(int column, int64_t min, int64_t max, int64_t* out) const;
  absl::Status PositiveNumber(int column, absl::string_view unit, double* out) const;
  absl::Status NonNegativeNumber(int column, double* out) const;

 private:
  CsvTable(std::unique_ptr<CsvLineReader> reader, std::string expected_columns)
      : reader_(std::move(reader)), expected_columns_(std::move(expected_columns)) {}

  std::unique_ptr<CsvLineReader> reader_;
  std::string expected_columns_;
  std::vector<std::string> columns_;
  std::vector<absl::string_view> fields_;  // the current row, valid until the next Next()
};

}  // namespace gpufleet
