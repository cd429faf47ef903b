// A perf model in which every iteration takes the same time, whatever the batch. Not a hardware model:
// it exists for queueing what-ifs and for checking the engine against closed-form queueing results
// (M/D/1), and every report says so through its label.
#pragma once

#include "absl/strings/str_format.h"
#include "models/perf_model.h"

namespace gpufleet {

class ConstantPerfModel final : public PerfModel {
 public:
  explicit ConstantPerfModel(double iteration_s) : iteration_s_(iteration_s) {}
  double IterationTime(std::span<const SeqWork>) const override { return iteration_s_; }
  std::string Label() const override {
    return absl::StrFormat("constant %g s per iteration (not a hardware model)", iteration_s_);
  }

 private:
  double iteration_s_;
};

}  // namespace gpufleet
