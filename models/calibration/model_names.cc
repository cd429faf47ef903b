// Published model and GPU names -> catalog entries (see model_names.h for the rule).
#include "models/calibration/model_names.h"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gpufleet {
namespace {

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Model name tokens (rule 1 and 2 of model_names.h).
std::vector<std::string> ModelTokens(absl::string_view name) {
  if (const size_t slash = name.rfind('/'); slash != absl::string_view::npos) name.remove_prefix(slash + 1);
  if (const size_t org = name.rfind("__"); org != absl::string_view::npos) name.remove_prefix(org + 2);
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) tokens.push_back(std::move(cur));
    cur.clear();
  };
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = Lower(name[i]);
    if (c == '.' && !cur.empty() && IsDigit(cur.back()) && i + 1 < name.size() && IsDigit(name[i + 1])) {
      cur += c;  // a version number: "3.1"
      continue;
    }
    if (!IsDigit(c) && !IsAlpha(c)) {
      flush();
      continue;
    }
    if (!cur.empty() && (IsDigit(cur.back()) || cur.back() == '.') != IsDigit(c)) flush();
    cur += c;
  }
  flush();
  return tokens;
}

bool IsNumber(const std::string& t) {
  return !t.empty() && IsDigit(t.front()) &&
         std::all_of(t.begin(), t.end(), [](char c) { return IsDigit(c) || c == '.'; });
}

struct ParsedModel {
  std::string full;     // all tokens
  std::string base;     // without trailing qualifiers
  std::string version;  // "v0.1" when the qualifiers held one
};

ParsedModel ParseModel(absl::string_view name) {
  std::vector<std::string> t = ModelTokens(name);
  ParsedModel p;
  p.full = absl::StrJoin(t, "-");
  for (;;) {
    const size_t n = t.size();
    if (n >= 2 && (t[n - 1] == "instruct" || t[n - 1] == "chat" || t[n - 1] == "hf" || t[n - 1] == "base")) {
      t.pop_back();
    } else if (n >= 3 && t[n - 2] == "v" && IsNumber(t[n - 1])) {
      if (p.version.empty()) p.version = "v" + t[n - 1];
      t.resize(n - 2);
    } else {
      break;
    }
  }
  p.base = absl::StrJoin(t, "-");
  return p;
}

// GPU name tokens (model_names.h); *vendor is set when the name states one.
std::vector<std::string> GpuTokens(absl::string_view name, std::string* vendor) {
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (cur == "nvidia" || cur == "amd") {
      if (vendor != nullptr) *vendor = cur;
    } else if (!cur.empty() && cur != "gpu" && !cur.starts_with("hbm") && !cur.starts_with("gddr")) {
      // A numbered SXM generation ("sxm4", "sxm5") is the SXM form factor.
      if (cur.starts_with("sxm") && std::all_of(cur.begin() + 3, cur.end(), IsDigit)) cur = "sxm";
      tokens.push_back(cur);
    }
    cur.clear();
  };
  for (char c : name) {
    if (IsDigit(c) || IsAlpha(c)) {
      cur += Lower(c);
    } else {
      flush();
    }
  }
  flush();
  return tokens;
}

std::string NotInCatalog(absl::string_view where, absl::string_view what, absl::string_view published,
                         const std::string& normalised, absl::string_view file,
                         const std::vector<std::string>& closest) {
  return absl::StrCat(where, where.empty() ? "" : ": ", what, " '", published, "' (normalised '", normalised,
                      "') is not in the ", what, " catalog; expected one of ", file,
                      closest.empty() ? "" : absl::StrCat(", closest: ", absl::StrJoin(closest, ", ")));
}

}  // namespace

std::string NormalizeModelName(absl::string_view name) { return ParseModel(name).full; }
std::string ModelBaseName(absl::string_view name) { return ParseModel(name).base; }

std::string NormalizeGpuName(absl::string_view name) { return absl::StrJoin(GpuTokens(name, nullptr), "-"); }

std::vector<std::string> ClosestNames(const std::string& word, const std::vector<std::string>& names,
                                      std::string (*normalize)(absl::string_view), size_t n) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const std::string& name : names) scored.emplace_back(EditDistance(word, normalize(name)), name);
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < n; ++i) out.push_back(scored[i].second);
  return out;
}

absl::StatusOr<const LlmSpec*> MapModelName(absl::string_view published, const Catalog& catalog,
                                            absl::string_view where) {
  const ParsedModel pub = ParseModel(published);
  // Step 0: all tokens equal; step 1: the bases equal, versions not contradicting.
  for (int step = 0; step < 2; ++step) {
    std::vector<const LlmSpec*> found;
    for (const auto& [name, llm] : catalog.llms()) {
      const ParsedModel keys[] = {ParseModel(llm.name), ParseModel(llm.hf_id)};
      const std::string version = !keys[0].version.empty() ? keys[0].version : keys[1].version;
      bool match = false;
      for (const ParsedModel& k : keys) {
        if (k.full.empty()) continue;
        match = match ||
                (step == 0 ? pub.full == k.full
                           : pub.base == k.base && (pub.version.empty() || version.empty() || pub.version == version));
      }
      if (match) found.push_back(&llm);
    }
    if (found.size() == 1) return found.front();
    if (found.size() > 1) {
      std::vector<std::string> names;
      for (const LlmSpec* l : found) names.push_back(l->name);
      return absl::InvalidArgumentError(absl::StrCat(where, where.empty() ? "" : ": ", "model '", published,
                                                     "' (normalised '", pub.full,
                                                     "') matches several catalog models: ", absl::StrJoin(names, ", "),
                                                     "; expected one (models/catalog/llms.yaml)"));
    }
  }
  if (pub.full.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, where.empty() ? "" : ": ", "model name '", published,
                                                   "' is empty; expected a model name such as 'Llama-2-70B'"));
  }
  return absl::NotFoundError(NotInCatalog(where, "model", published, pub.full, "models/catalog/llms.yaml",
                                          ClosestNames(pub.base, catalog.LlmNames(), &ModelBaseName)));
}

absl::StatusOr<const GpuSpec*> MapGpuName(absl::string_view published, const Catalog& catalog,
                                          absl::string_view where) {
  std::string vendor;
  const std::vector<std::string> pub = GpuTokens(published, &vendor);
  if (pub.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, where.empty() ? "" : ": ", "hardware name '", published,
                                                   "' names no GPU; expected a GPU such as 'H100' or 'a100-80gb'"));
  }
  std::vector<const GpuSpec*> found;
  for (const auto& [name, gpu] : catalog.gpus()) {
    const std::vector<std::string> tokens = GpuTokens(gpu.name, nullptr);
    if (tokens.empty() || tokens.front() != pub.front()) continue;
    if (!vendor.empty() && gpu.vendor != vendor) continue;
    const bool all = std::all_of(pub.begin() + 1, pub.end(), [&](const std::string& t) {
      return std::find(tokens.begin() + 1, tokens.end(), t) != tokens.end();
    });
    if (all) found.push_back(&gpu);
  }
  if (found.empty()) {
    const std::string norm = absl::StrJoin(pub, "-");
    return absl::NotFoundError(NotInCatalog(where, "GPU", published, norm, "models/catalog/gpus.yaml",
                                            ClosestNames(norm, catalog.GpuNames(), &NormalizeGpuName)));
  }
  // The variant left open: the SXM board, then the most memory, then the name.
  auto rank = [](const GpuSpec* g) {
    const std::vector<std::string> t = GpuTokens(g->name, nullptr);
    const bool sxm = std::find(t.begin(), t.end(), "sxm") != t.end();
    return std::tuple(!sxm, -g->hbm_gb, g->name);
  };
  return *std::min_element(found.begin(), found.end(),
                           [&](const GpuSpec* a, const GpuSpec* b) { return rank(a) < rank(b); });
}

const NodeSpec* ReferenceNode(const GpuSpec& gpu, const Catalog& catalog) {
  const NodeSpec* best = nullptr;
  auto rank = [](const NodeSpec* n) {
    const bool reference = n->name.starts_with("DGX-") || n->name.starts_with("HGX-");
    return std::tuple(n->intra_fabric != "nvswitch", -n->gpus_per_node, !reference, n->name);
  };
  for (const auto& [name, node] : catalog.nodes()) {
    if (node.gpu == gpu.name && (best == nullptr || rank(&node) < rank(best))) best = &node;
  }
  return best;
}

}  // namespace gpufleet
