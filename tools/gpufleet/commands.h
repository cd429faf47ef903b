// The gpufleet CLI's subcommands. Each registers its flags on the CLI11 app and returns the process exit
// code when run: 0 success, 2 bad input (scenario, trace, flag), 1 internal failure.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

#include "absl/status/status.h"

namespace gpufleet {

// Registers the subcommand; the returned function runs it after parsing.
std::function<int()> AddSimulateCommand(CLI::App& app);
std::function<int()> AddCatalogCommand(CLI::App& app);
std::function<int()> AddPoliciesCommand(CLI::App& app);
std::function<int()> AddTopologyCommand(CLI::App& app);
std::function<int()> AddCalibrateCommand(CLI::App& app);
std::function<int()> AddValidateCommand(CLI::App& app);

// Prints "gpufleet: error: MESSAGE" on stderr and maps the status to an exit code.
int ReportError(const absl::Status& status);

}  // namespace gpufleet
