// Size buckets: routes each request by its size to the deployment groups that a capacity plan assigned
// that size to (Mélange-style heterogeneous serving: short prompts to cheap GPUs, long ones to big GPUs).
//
//   router:
//     type: size_buckets
//     prompt_tokens: [512, 2048]   # ascending edges: buckets [0,512), [512,2048), [2048,inf); optional
//     output_tokens: [256]         # optional; the request's true output length (an oracle, as Mélange assumes)
//     shares:                      # group name -> weights [prompt bucket][output bucket], >= 0
//       h100-group: [[1, 0], [0.25, 1], [0, 1]]
//       a100-group: [[0, 1], [0.75, 0], [1, 0]]
//
// A request's bucket picks a group among those with weight > 0 there by smooth weighted round robin
// (nginx's: deterministic, each group's share of the bucket's requests exactly proportional to its weight
// over every full cycle), then the group's replica with the least outstanding tokens (lowest index on
// ties). A bucket where every group weighs 0 (groups absent from `shares` weigh 0 everywhere) goes to the
// least-outstanding-tokens replica of the whole fleet. With one prompt or one output bucket, a group's
// weights may also be written as a flat list ([1, 0.25, 0] for three prompt buckets).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "policies/routing/router.h"

namespace gpufleet {
namespace {

class SizeBucketsRouter final : public Router {
 public:
  struct Share {
    std::string group;
    YAML::Mark mark;              // of the key in `shares`, for Bind's error
    std::vector<double> weights;  // per bucket, prompt-major
  };

  SizeBucketsRouter(std::string file, std::vector<int64_t> prompt_edges, std::vector<int64_t> output_edges,
                    std::vector<Share> shares)
      : file_(std::move(file)), prompt_edges_(std::move(prompt_edges)), output_edges_(std::move(output_edges)),
        shares_(std::move(shares)) {}

  absl::Status Bind(const PolicyBinding& binding) override {
    const std::vector<std::string>& group_names = binding.group_names;
    const size_t buckets = (prompt_edges_.size() + 1) * (output_edges_.size() + 1);
    weights_.assign(buckets, std::vector<double>(group_names.size(), 0.0));
    current_.assign(buckets, std::vector<double>(group_names.size(), 0.0));
    for (const Share& s : shares_) {
      auto named = ResolveGroupNames(file_, s.mark, "router.shares", {s.group}, group_names);
      if (!named.ok()) {
        weights_.clear();
        return named.status();
      }
      const size_t g = static_cast<size_t>(std::find(named->begin(), named->end(), true) - named->begin());
      for (size_t b = 0; b < buckets; ++b) weights_[b][g] = s.weights[b];
    }
    return absl::OkStatus();
  }

  RouterNeeds Needs() const override { return {.least_tokens = true, .per_group = true}; }

  size_t Route(const TraceRequest& request, const FleetView& fleet) override {
    const size_t p = static_cast<size_t>(
        std::upper_bound(prompt_edges_.begin(), prompt_edges_.end(), static_cast<int64_t>(request.prompt_tokens)) -
        prompt_edges_.begin());
    const size_t o = static_cast<size_t>(
        std::upper_bound(output_edges_.begin(), output_edges_.end(), static_cast<int64_t>(request.output_tokens)) -
        output_edges_.begin());
    const size_t bucket = p * (output_edges_.size() + 1) + o;
    if (bucket < weights_.size()) {
      // Smooth weighted round robin over the groups that weigh > 0 here.
      const std::vector<double>& w = weights_[bucket];
      std::vector<double>& cur = current_[bucket];
      double total = 0;
      int pick = -1;
      for (size_t g = 0; g < w.size(); ++g) {
        if (w[g] <= 0) continue;
        cur[g] += w[g];
        total += w[g];
        if (pick < 0 || cur[g] > cur[static_cast<size_t>(pick)]) pick = static_cast<int>(g);
      }
      if (pick >= 0) {
        cur[static_cast<size_t>(pick)] -= total;
        if (int r = fleet.LeastOutstandingTokens(pick); r >= 0) return static_cast<size_t>(r);
      }
    }
    return static_cast<size_t>(fleet.LeastOutstandingTokens());
  }

 private:
  std::string file_;
  std::vector<int64_t> prompt_edges_, output_edges_;
  std::vector<Share> shares_;
  std::vector<std::vector<double>> weights_;  // [bucket][group index], set by Bind
  std::vector<std::vector<double>> current_;  // SWRR state, same shape
};

absl::Status Edges(MapReader& m, const std::string& key, std::vector<int64_t>* out) {
  const YAML::Node n = m.Raw(key, "list of ascending token counts");
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  const std::string what = absl::StrCat(m.what(), ".", key);
  if (!n.IsSequence()) return YamlError(m.file(), n, absl::StrCat(what, " is not a list"), "ascending token counts, e.g. [512, 2048]");
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string item = absl::StrCat(what, "[", i, "]");
    absl::StatusOr<int64_t> v = ScalarInt(m.file(), n[i], item, 1, 1 << 30);
    if (!v.ok()) return v.status();
    if (!out->empty() && *v <= out->back()) {
      return YamlError(m.file(), n[i], absl::StrCat(item, " is ", *v, ", not above the edge before it (", out->back(), ")"),
                       "strictly ascending bucket edges");
    }
    out->push_back(*v);
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Weight(MapReader& m, const YAML::Node& n, const std::string& what) {
  return ScalarDouble(m.file(), n, what, 0, 1e9);
}

// One group's weights: a rows x cols matrix, or a flat list when rows or cols is 1.
absl::Status Matrix(MapReader& m, const YAML::Node& n, const std::string& what, size_t rows, size_t cols,
                    std::vector<double>* out) {
  const std::string shape = absl::StrCat(rows, " rows (prompt buckets) of ", cols, " weights (output buckets)");
  if (!n.IsSequence()) return YamlError(m.file(), n, absl::StrCat(what, " is not a list"), shape);
  const bool flat = n.size() > 0 && n[0].IsScalar();
  if (flat) {
    if ((rows != 1 && cols != 1) || n.size() != rows * cols) {
      return YamlError(m.file(), n, absl::StrCat(what, " is a flat list of ", n.size(), " weights"),
                       rows != 1 && cols != 1 ? shape : absl::StrCat(rows * cols, " weights, one per bucket"));
    }
    for (size_t i = 0; i < n.size(); ++i) {
      absl::StatusOr<double> v = Weight(m, n[i], absl::StrCat(what, "[", i, "]"));
      if (!v.ok()) return v.status();
      out->push_back(*v);
    }
    return absl::OkStatus();
  }
  if (n.size() != rows) {
    return YamlError(m.file(), n, absl::StrCat(what, " has ", n.size(), " rows"),
                     absl::StrCat(shape, ": one row per prompt bucket (", rows - 1, " prompt_tokens edges)"));
  }
  for (size_t r = 0; r < rows; ++r) {
    const std::string row = absl::StrCat(what, "[", r, "]");
    if (!n[r].IsSequence() || n[r].size() != cols) {
      return YamlError(m.file(), n[r], absl::StrCat(row, n[r].IsSequence() ? absl::StrCat(" has ", n[r].size(), " weights") : " is not a list"),
                       absl::StrCat(cols, " weights, one per output bucket (", cols - 1, " output_tokens edges)"));
    }
    for (size_t c = 0; c < cols; ++c) {
      absl::StatusOr<double> v = Weight(m, n[r][c], absl::StrCat(row, "[", c, "]"));
      if (!v.ok()) return v.status();
      out->push_back(*v);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Router>> MakeSizeBuckets(MapReader& m) {
  std::vector<int64_t> prompt_edges, output_edges;
  if (absl::Status s = Edges(m, "prompt_tokens", &prompt_edges); !s.ok()) return s;
  if (absl::Status s = Edges(m, "output_tokens", &output_edges); !s.ok()) return s;
  const size_t rows = prompt_edges.size() + 1, cols = output_edges.size() + 1;
  const YAML::Node shares = m.Raw("shares", "required map GROUP -> weights [prompt bucket][output bucket]");
  std::vector<SizeBucketsRouter::Share> out;
  if (m.describing()) return std::make_unique<SizeBucketsRouter>(m.file(), prompt_edges, output_edges, std::move(out));
  if (!shares.IsDefined() || shares.IsNull()) {
    return m.Error(absl::StrCat(m.what(), " of type size_buckets has no 'shares'"), "shares: {GROUP: [[weights]], ...}");
  }
  const std::string what = absl::StrCat(m.what(), ".shares");
  if (!shares.IsMap() || shares.size() == 0) {
    return YamlError(m.file(), shares, absl::StrCat(what, " is not a non-empty mapping"), "GROUP: [[weights per bucket]], ...");
  }
  for (const auto& kv : shares) {
    SizeBucketsRouter::Share s;
    s.group = kv.first.Scalar();
    s.mark = kv.first.Mark();
    if (absl::Status st = Matrix(m, kv.second, absl::StrCat(what, ".", s.group), rows, cols, &s.weights); !st.ok()) return st;
    out.push_back(std::move(s));
  }
  return std::make_unique<SizeBucketsRouter>(m.file(), std::move(prompt_edges), std::move(output_edges), std::move(out));
}

GF_REGISTER_POLICY(Router, "size_buckets",
                   "by request-size bucket to deployment groups, weighted round robin (params: prompt_tokens, "
                   "output_tokens, shares)",
                   MakeSizeBuckets);

}  // namespace
}  // namespace gpufleet
