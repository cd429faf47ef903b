// A stream of arriving requests, pulled one at a time by the engine's router actor.
//
// Readers (Azure CSV, native CSV), synthetic generators and decorators (rate multiplier, time window,
// request cap, superposition) all implement RequestStream. A stream never holds a whole trace: a
// 10M-request file is read row by row. Arrival times are non-decreasing seconds from the run's start.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace gpufleet {

struct TraceRequest {
  uint64_t id = 0;             // 0-based, in arrival order, assigned by the stream
  double arrival_s = 0;        // seconds since the start of the run
  uint32_t prompt_tokens = 0;  // >= 1
  uint32_t output_tokens = 0;  // >= 1
  int32_t priority = 0;        // larger = more important; 0 when the source has none
  int32_t service_class = 0;   // workload class index; 0 when the source has none
  // A prompt prefix shared by a group of requests (a system prompt, few-shot examples, a document):
  // replicas with a prefix cache skip its prefill when they hold it (docs/policies.md).
  uint32_t prefix_id = 0;      // 0: no shared prefix
  uint32_t prefix_tokens = 0;  // leading prompt tokens the group shares (< prompt_tokens)
};

class RequestStream {
 public:
  virtual ~RequestStream() = default;
  // Fills *out with the next request and returns true, returns false at the end of the stream, or
  // returns an error (a malformed row: "file:row N: what; expected ...").
  virtual absl::StatusOr<bool> Next(TraceRequest* out) = 0;
  // Rough share of the stream consumed so far, in [0, 1], for progress lines; -1 when unknown.
  virtual double Progress() const = 0;
};

}  // namespace gpufleet
