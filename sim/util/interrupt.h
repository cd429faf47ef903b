// Clean stops for the CLI: SIGINT and SIGTERM end the process at once with a message and exit code
// 128 + signal (130, 143), after removing the temporary files registered here, so an interrupted run leaves
// neither a half-written output nor a stray temporary. Outputs are only ever written whole (atomic_file.h,
// SQLite transactions), so stopping at any point is safe: a database rolls an unfinished transaction back
// on its next open.
#pragma once

#include <string>

namespace gpufleet {

// Installs the SIGINT/SIGTERM handlers. Call once, early in main.
void InstallInterruptHandlers();

// Removes every registered temporary file now (async-signal-safe): for last-resort exits that bypass
// destructors (out of memory, an escaped exception).
void RemoveTempFilesNow();

// While alive, `path` is removed if the process is interrupted. Up to 32 at once; beyond that the file is
// simply not tracked (the temporaries a command writes at once are a handful).
class TempFileGuard {
 public:
  explicit TempFileGuard(const std::string& path);
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;

 private:
  int slot_;
};

}  // namespace gpufleet
