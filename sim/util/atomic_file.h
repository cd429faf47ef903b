// Writing a whole output file so that readers never see half of it: the text goes to a temporary beside
// `path`, renamed over `path` only once complete (a failed write leaves `path` as it was, no temporary).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace gpufleet {

// InvalidArgument naming `path` when it cannot be written.
absl::Status WriteFileAtomically(const std::string& path, std::string_view text);
// The same for output too large to hold in memory first: `write` streams it (a stream error fails it).
absl::Status WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace gpufleet
