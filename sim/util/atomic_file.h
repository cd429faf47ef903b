// Writing a whole output file so that readers never see half of it: the text goes to a temporary beside
// `path`, renamed over `path` only once complete (a failed write leaves `path` as it was, no temporary).
//
// Links and special files are never replaced: a symbolic link is written through (its final target gets
// the new contents, the link stays), and a character device or FIFO (/dev/stdout, a named pipe) is written
// directly, since it cannot be renamed over. CheckOutputPath applies the same rules before any work, so a
// long run never ends in an output it cannot write.
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

// OK when `path` can take an output file: absent in an existing, writable directory; a writable regular
// file; a link whose final target is one of those; a writable character device or FIFO. Otherwise an
// InvalidArgument "FLAG PATH: what is wrong; expected ..." (`flag` names the option, e.g. "--db").
// Creates nothing.
absl::Status CheckOutputPath(const std::string& path, std::string_view flag = {});

// Where writes to `path` land: the final target of a chain of symbolic links (relative targets resolved
// against their link's folder), or `path` itself. Fails on a loop.
absl::Status ResolveOutputPath(const std::string& path, std::string* resolved);

}  // namespace gpufleet
