// Published model and GPU names -> catalog entries, by one normalised rule (no list of names), for the
// measurement readers: each published set spells names its own way ("meta-llama/Llama-2-70b-hf",
// "llama2-70b", "Qwen__Qwen3-8B", "Nvidia A100 GPU", "h100-80gb"). docs/perf-model.md, "Model and GPU names
// in measurement sets", states the same rule for users.
//
// Models. A name is reduced to tokens:
//   1. the organisation goes: everything up to the last '/' ("meta-llama/") or the last "__" (ML.ENERGY's
//      file names, "Qwen__");
//   2. lower case; any character other than a letter, a digit or a '.' between two digits separates tokens
//      ('-', '_', ' ', "gpt.j"), and a token splits where letters meet digits ("llama2" -> llama 2,
//      "70b" -> 70 b, "v0.1" -> v 0.1). A '.' between digits stays: version numbers matter, so
//      "Llama-3.1-8B" (llama-3.1-8-b) is not "Llama-3-8B" (llama-3-8-b).
// A published name denotes the catalog LLM whose `name` or `hf_id` has the same tokens. Failing that, the
// comparison is repeated with trailing qualifiers dropped from both sides: "instruct", "chat", "hf",
// "base" and a version "v<number>" (fine-tunes and repackagings share the base model's architecture), a
// version only when the other side states none or the same one ("Mistral-7B-v0.3" is not the catalog's
// v0.1). "llama2-70b" = "Llama-2-70B", "Llama-3.1-8B-Instruct" = "Llama-3.1-8B", "Qwen__Qwen3-8B" =
// "Qwen3-8B". Two catalog entries matching at the same step is an error (the catalog would be ambiguous).
//
// GPUs. A hardware name is lower-cased and split at any character other than a letter or digit; vendor
// words ("nvidia", "amd"), "gpu" and memory-type words ("hbm3", "gddr6") go. The first remaining token is
// the product ("h100", "a100", "gh200"), which must equal the first token of the catalog name; every other
// token (a memory size "80gb", a form factor "sxm", "pcie") must be a token of the catalog name. When
// several catalog GPUs remain, the name leaves the variant open ("Nvidia A100 GPU": 40 or 80 GB, SXM or
// PCIe) and the default is the SXM board with the most memory (A100 -> A100-SXM-80GB, H100 -> H100-SXM-80GB):
// the variant of NVIDIA's 8-GPU servers that published serving benchmarks run on. A vendor word, when
// given, must match the catalog GPU's vendor.
//
// Errors name where the name came from (`where`, e.g. "PATH:ROW"), the name, its normalised form and up to
// three closest catalog names by edit distance on the normalised forms.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "models/catalog.h"

namespace gpufleet {

// The normalised token form of a model name, tokens joined by '-' ("meta-llama/Llama-3.1-8B-Instruct" ->
// "llama-3.1-8-b-instruct").
std::string NormalizeModelName(absl::string_view name);
// The same with trailing qualifiers (instruct, chat, hf, base, v<number>) removed ("llama-3.1-8-b").
std::string ModelBaseName(absl::string_view name);

// The catalog LLM `published` denotes. NotFoundError("WHERE: model 'X' (normalised 'x') is not in the model
// catalog; expected ... closest: A, B, C") when none does; InvalidArgumentError when two do.
absl::StatusOr<const LlmSpec*> MapModelName(absl::string_view published, const Catalog& catalog,
                                            absl::string_view where);

// The normalised token form of a GPU name ("Nvidia H100 GPU" -> "h100", "h100-80gb" -> "h100-80gb").
std::string NormalizeGpuName(absl::string_view name);

// The catalog GPU `published` denotes, with the SXM / largest-memory default above. NotFoundError when
// none does.
absl::StatusOr<const GpuSpec*> MapGpuName(absl::string_view published, const Catalog& catalog, absl::string_view where);

// The catalog node a measurement of `gpu` most likely ran on when the source names none: among the nodes of
// that GPU, NVSwitch first, then the most GPUs per node, then NVIDIA's reference servers (names starting
// "DGX-" or "HGX-"), then by name. nullptr when the catalog has no node of that GPU.
const NodeSpec* ReferenceNode(const GpuSpec& gpu, const Catalog& catalog);

// The up to `n` names of `names` closest to `word` by edit distance on the normalised forms `normalize`
// gives, nearest first (ties by name).
std::vector<std::string> ClosestNames(const std::string& word, const std::vector<std::string>& names,
                                      std::string (*normalize)(absl::string_view), size_t n = 3);

}  // namespace gpufleet
