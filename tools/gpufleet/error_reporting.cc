// Maps statuses to exit codes and messages (see commands.h).
#include <cstdio>

#include "tools/gpufleet/commands.h"

namespace gpufleet {

int ReportError(const absl::Status& status) {
  std::fprintf(stderr, "gpufleet: error: %s\n", std::string(status.message()).c_str());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 2;
    default:
      return 1;
  }
}

}  // namespace gpufleet
