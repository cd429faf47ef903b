// The time extent of a trace file without reading it all: the first row's arrival (from the start of
// the file) and the last row's (from a block read at the end of the file), plus the row count, exact
// when the file fits in that block and otherwise estimated from the data size and the mean line length
// of a block at each end. Superposition uses it to know the trace's period before streaming it.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "traces/arrival_gaps.h"

namespace gpufleet {

struct TraceExtent {
  int64_t rows = 0;             // data rows (0: the trace has none); exact when rows_exact
  bool rows_exact = false;
  double first_arrival_s = 0;   // as the stream reports it (0 for Azure traces)
  double last_arrival_s = 0;
  double mean_gap_s = 0;        // span / (rows - 1); 0 with fewer than two rows

  double span_s() const { return last_arrival_s - first_arrival_s; }
  // span + mean gap: the period of the trace when it repeats cyclically.
  double period_s() const { return span_s() + mean_gap_s; }
};

// Checks the header and the first row, then reads the tail of the file. A malformed first or last row
// gives that row's "PATH:ROW: ..." error (the last row's number found by a sequential scan, which also
// applies the arrival-gap rule `max_gap_s`, as the streams that follow would). A last row more than
// kMaxTraceArrivalS after the origin counts as malformed.
absl::StatusOr<TraceExtent> ReadTraceExtent(const std::string& path, absl::string_view format,
                                            double max_gap_s = kDefaultGapRule);

}  // namespace gpufleet
