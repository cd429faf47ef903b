// SIGINT/SIGTERM handling for a long measurement run: the first signal only raises a flag, which the
// runner checks between samples so it can stop cleanly, restore power limits and write the rows measured
// so far; a second signal restores power limits at once (best effort) and exits with status 130.
#pragma once

namespace gpufleet::microbench {

void InstallInterruptHandlers();
bool Interrupted();

}  // namespace gpufleet::microbench
