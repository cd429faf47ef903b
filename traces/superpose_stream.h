// Superposition of a trace with itself: K copies of the file merged into one stream, copy k shifted
// cyclically by k * P / K, where the period P = span + mean gap (span = last arrival - first arrival;
// the extra mean gap keeps a wrapped row from landing on the first row of the trace). Copy k first
// emits the rows with relative time r >= P - shift at r + shift - P, then the rest at r + shift, so
// every copy covers [first, first + P) once. Each part is a sequential reader of the file (at most
// K open at a time), merged by a min-heap on (arrival, copy index): memory is O(K), not O(rows).
#pragma once

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "traces/arrival_gaps.h"
#include "traces/request_stream.h"

namespace gpufleet {

// `copies` >= 1. Checks the file's header and reads its first and last rows here; later row errors
// come from Next(). Ids are 0, 1, 2, ... in merged order. Progress() is the share of the period
// covered so far. max_gap_s: the readers' arrival-gap rule (traces/arrival_gaps.h). A shifted arrival
// that is not finite is an error (the readers' bound on arrivals keeps it from happening).
absl::StatusOr<std::unique_ptr<RequestStream>> MakeSuperposedTrace(const std::string& path,
                                                                   absl::string_view format, int copies,
                                                                   double max_gap_s = kDefaultGapRule);

}  // namespace gpufleet
