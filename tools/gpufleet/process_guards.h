// Last-resort handling for the gpufleet process, so that no failure ends in a core dump or a silent exit:
// an escaped exception, a failed allocation or an abort inside a library prints "gpufleet: internal
// error: ..." (or "out of memory") and exits 1, after removing registered temporary files; SIGINT/SIGTERM
// stop cleanly (sim/util/interrupt.h). `--max-memory` caps the address space so that a runaway run fails
// cleanly instead of pushing the machine into swap.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace gpufleet {

// Call first thing in main.
void InstallProcessGuards();

// "8G", "512M", "1.5T", "1000000" (bytes; K/M/G/T are powers of 1024).
absl::StatusOr<uint64_t> ParseByteSize(const std::string& text);

// Caps the process's address space (RLIMIT_AS) at `bytes`.
absl::Status SetMemoryLimit(uint64_t bytes);

}  // namespace gpufleet
