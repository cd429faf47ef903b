// gpufleet: simulate and plan LLM-serving GPU fleets. Dispatches to the subcommands in commands.h.
#include <map>
#include <string>

#include "tools/gpufleet/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"gpufleet: discrete-event simulator and capacity planner for LLM-serving GPU fleets"};
  app.set_version_flag("--version", std::string("gpufleet ") + GPUFLEET_VERSION);
  app.require_subcommand(1);
  const std::map<std::string, std::function<int()>> runners = {
      {"simulate", gpufleet::AddSimulateCommand(app)},
      {"catalog", gpufleet::AddCatalogCommand(app)},
      {"policies", gpufleet::AddPoliciesCommand(app)},
      {"topology", gpufleet::AddTopologyCommand(app)},
      {"calibrate", gpufleet::AddCalibrateCommand(app)},
      {"validate", gpufleet::AddValidateCommand(app)},
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;  // a bad flag is bad input, like a bad scenario
  }
  return runners.at(app.get_subcommands().front()->get_name())();
}
