// The gpufleet CLI's subcommands. Each registers its flags on the CLI11 app and returns the process exit
// code when run: 0 success, 2 bad input (scenario, trace, flag), 1 internal failure, 3 the work finished and
// its report was printed but an output could not be written (the result is kept in a side file, named on
// stderr), 130/143 interrupted by SIGINT/SIGTERM (docs/reliability.md).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "absl/status/status.h"

namespace gpufleet {

inline constexpr int kExitKeptAside = 3;

// Registers the subcommand; the returned function runs it after parsing.
std::function<int()> AddSimulateCommand(CLI::App& app);
std::function<int()> AddCatalogCommand(CLI::App& app);
std::function<int()> AddPoliciesCommand(CLI::App& app);
std::function<int()> AddTopologyCommand(CLI::App& app);
std::function<int()> AddCalibrateCommand(CLI::App& app);
std::function<int()> AddValidateCommand(CLI::App& app);
std::function<int()> AddMergeCommand(CLI::App& app);
std::function<int()> AddSweepCommand(CLI::App& app);
std::function<int()> AddReportCommand(CLI::App& app);
std::function<int()> AddPlanCommand(CLI::App& app);
std::function<int()> AddOversubscribeCommand(CLI::App& app);
std::function<int()> AddRegressCommand(CLI::App& app);

// Prints "gpufleet: error: MESSAGE" on stderr and maps the status to an exit code.
int ReportError(const absl::Status& status);

}  // namespace gpufleet
