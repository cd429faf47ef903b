// Writing a whole output file so that readers never see half of it: the text goes to a temporary beside
// `path`, renamed over `path` only once complete (a failed write leaves `path` as it was, no temporary).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace gpufleet {

// InvalidArgument naming `path` when it cannot be written.
absl::Status WriteFileAtomically(const std::string& path, std::string_view text);

}  // namespace gpufleet
