// gpufleet: simulate and plan LLM-serving GPU fleets. Dispatches to the subcommands in commands.h.
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "tools/gpufleet/commands.h"
#include "tools/gpufleet/process_guards.h"

int main(int argc, char** argv) {
  gpufleet::InstallProcessGuards();
  CLI::App app{"gpufleet: discrete-event simulator and capacity planner for LLM-serving GPU fleets"};
  app.set_version_flag("--version", std::string("gpufleet ") + GPUFLEET_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // --max-memory may follow the subcommand
  std::string max_memory;
  app.add_option("--max-memory", max_memory,
                 "Cap this process's memory (address space), e.g. 8G: past it the command stops with a message, "
                 "exit 1, nothing written");
  const std::map<std::string, std::function<int()>> runners = {
      {"simulate", gpufleet::AddSimulateCommand(app)},
      {"catalog", gpufleet::AddCatalogCommand(app)},
      {"policies", gpufleet::AddPoliciesCommand(app)},
      {"topology", gpufleet::AddTopologyCommand(app)},
      {"calibrate", gpufleet::AddCalibrateCommand(app)},
      {"validate", gpufleet::AddValidateCommand(app)},
      {"merge", gpufleet::AddMergeCommand(app)},
      {"sweep", gpufleet::AddSweepCommand(app)},
      {"report", gpufleet::AddReportCommand(app)},
      {"plan", gpufleet::AddPlanCommand(app)},
      {"oversubscribe", gpufleet::AddOversubscribeCommand(app)},
      {"regress", gpufleet::AddRegressCommand(app)},
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // a bad flag is bad input, like a bad scenario
  }
  if (!max_memory.empty()) {
    auto bytes = gpufleet::ParseByteSize(max_memory);
    if (!bytes.ok()) return gpufleet::ReportError(bytes.status());
    if (auto st = gpufleet::SetMemoryLimit(*bytes); !st.ok()) return gpufleet::ReportError(st);
  }
  try {
    return runners.at(app.get_subcommands().front()->get_name())();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "gpufleet: error: out of memory%s; nothing was written\n",
                 max_memory.empty() ? "" : " (over --max-memory)");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpufleet: internal error: %s\n", e.what());
    return 1;
  }
}
