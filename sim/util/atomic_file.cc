// See atomic_file.h.
#include "sim/util/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "sim/util/interrupt.h"

namespace gpufleet {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxLinkHops = 40;  // as the kernel's own limit on nested links

std::string Prefix(const std::string& path, std::string_view flag) {
  return flag.empty() ? path : absl::StrCat(std::string(flag), " ", path);
}

bool IsStreamTarget(const struct stat& st) { return S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode); }

absl::Status WriteDirectly(const std::string& path, const std::string& shown,
                           const std::function<void(std::ostream&)>& write) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return absl::InvalidArgumentError(absl::StrCat(shown, ": cannot write: ", std::strerror(errno)));
  write(out);
  out.close();
  if (out.fail()) return absl::InvalidArgumentError(absl::StrCat(shown, ": write failed"));
  return absl::OkStatus();
}

}  // namespace

absl::Status ResolveOutputPath(const std::string& path, std::string* resolved) {
  fs::path p = path;
  for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) {
      *resolved = p.string();
      return absl::OkStatus();
    }
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read link: ", ec.message()));
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": too many levels of symbolic links"));
}

absl::Status CheckOutputPath(const std::string& path, std::string_view flag) {
  const std::string shown = Prefix(path, flag);
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(std::string(flag), ": empty path; expected a file name"));
  std::string target;
  if (absl::Status s = ResolveOutputPath(path, &target); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag.empty() ? "" : absl::StrCat(std::string(flag), " "), s.message()));
  }
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(shown, ": is a directory; expected a file name"));
    }
    if (!S_ISREG(st.st_mode) && !IsStreamTarget(st)) {
      return absl::InvalidArgumentError(
          absl::StrCat(shown, ": not a regular file; expected a file, a link to one, a FIFO or a character device"));
    }
    if (::access(target.c_str(), W_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(shown, ": not writable: ", std::strerror(errno)));
    }
    if (IsStreamTarget(st)) return absl::OkStatus();
  } else if (errno != ENOENT) {
    return absl::InvalidArgumentError(absl::StrCat(shown, ": ", std::strerror(errno)));
  }
  // A regular file or a new one is written through a temporary beside it: the folder must take files.
  fs::path dir = fs::path(target).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(shown, ": directory ", dir.string(), " does not exist"));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, ": cannot create files in ", dir.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view text) {
  return WriteFileAtomically(path, [text](std::ostream& out) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  });
}

absl::Status WriteFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  std::string target;
  if (absl::Status s = ResolveOutputPath(path, &target); !s.ok()) return s;
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0 && IsStreamTarget(st)) return WriteDirectly(target, path, write);
  // The writer's pid in the temporary name: two writers of one path never share a temporary.
  const std::string tmp = absl::StrCat(target, ".tmp.", ::getpid());
  TempFileGuard guard(tmp);  // an interrupt mid-write removes it
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write: ", std::strerror(errno)));
    write(out);
    out.close();
    if (out.fail()) {
      fs::remove(tmp, ec);
      return absl::InvalidArgumentError(absl::StrCat(path, ": write failed (disk full?)"));
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot write: ", why));
  }
  return absl::OkStatus();
}

}  // namespace gpufleet
