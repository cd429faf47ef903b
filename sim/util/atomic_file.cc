// See atomic_file.h.
#include "sim/util/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace gpufleet {

absl::Status WriteFileAtomically(const std::string& path, std::string_view text) {
  return WriteFileAtomically(path, [text](std::ostream& out) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  });
}

absl::Status WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  // The writer's pid in the temporary name: two writers of one path never share a temporary.
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
    write(out);
    out.close();
    if (out.fail()) {
      std::filesystem::remove(tmp, ec);
      return absl::InvalidArgumentError(absl::StrCat(path, ": write failed (disk full?)"));
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(tmp, ec);
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write: ", why));
  }
  return absl::OkStatus();
}

}  // namespace gpufleet
