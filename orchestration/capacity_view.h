// `gpufleet report --capacity PATH`: a sweep reduced to each configuration's capacity along one load axis.
//
// The points are grouped by their overrides other than PATH (one group per design: GPU mix, split, policy),
// and each group is walked in increasing PATH order (a number: the rate multiplier, the request rate, the
// replica count's inverse...). A group's capacity is the last value of its first unbroken run of passing
// points from the lowest load: a point passes when it has runs and they met every SLO they evaluated
// (fleet-level percentiles), or, with `min_attainment`, when its mean SLO attainment (the share of
// requests that met every SLO) is at least that. Counting only the unbroken run from the lowest load
// keeps a lucky pass above a failure from overstating what the design sustains. A group with no passing
// load keeps its lowest point, marked as not meeting.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "orchestration/sweep_report.h"

namespace gpufleet {

// Replaces report->points by one point per group (in the order groups first appear), its `meets_slos`
// telling whether it passed. InvalidArgument when PATH is not an override of the sweep or takes a
// non-numeric value.
absl::Status KeepCapacityPoints(SweepReport* report, const std::string& path, std::optional<double> min_attainment);

}  // namespace gpufleet
