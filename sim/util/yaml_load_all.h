// YAML::LoadAll without yaml-cpp 0.7's endless loop on a stray token (Debian 12 ships 0.7).
//
// yaml-cpp 0.7 never returns from LoadAll when a document starts with a token no node can start with,
// such as a ',' outside a flow collection ("a: [1]\n,", or just ","): the parser reports an empty
// document there without consuming the token, again and again, and LoadAll appends null documents
// until memory runs out (jbeder/yaml-cpp#1040, fixed upstream by #1319 after 0.8.0). Found by
// tools/fuzz (scenario_fuzzer).
#pragma once

#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"

namespace gpufleet {

// YAML::LoadAll(text), or YAML::ParserException at a token the parser would stall on.
std::vector<YAML::Node> LoadAllDocuments(const std::string& text);

}  // namespace gpufleet
