// The scenario's `workload:` section (see workload_section.h).
#include "sim/scenario/workload_section.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/util/status_macros.h"
#include "traces/workload_stream.h"

namespace gpufleet {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

class WorkloadReader {
 public:
  WorkloadReader(const std::string& file, const std::string& base_dir) : file_(file), base_dir_(base_dir) {}

  absl::Status Length(MapReader& parent, const std::string& key, const std::string& what, LengthSpec* out) {
    GF_ASSIGN_OR_RETURN(MapReader l, MapReader::Make(file_, parent.Raw(key), what));
    std::string dist;
    GF_RETURN_IF_ERROR(l.GetEnum("dist", {"fixed", "uniform", "lognormal"}, &dist));
    if (dist == "fixed") {
      out->kind = LengthSpec::Kind::kFixed;
      GF_RETURN_IF_ERROR(l.Get("value", &out->value, 1, 1 << 24));
    } else if (dist == "uniform") {
      out->kind = LengthSpec::Kind::kUniform;
      GF_RETURN_IF_ERROR(l.Get("min", &out->min, 1, 1 << 24));
      GF_RETURN_IF_ERROR(l.Get("max", &out->max, 1, 1 << 24));
      if (out->max < out->min) return l.ErrorAt("max", absl::StrCat(what, ".max is below min"), "max >= min");
    } else {
      out->kind = LengthSpec::Kind::kLognormal;
      GF_RETURN_IF_ERROR(l.Get("median", &out->median, 1, 1 << 24));
      GF_RETURN_IF_ERROR(l.Get("sigma", &out->sigma, 0, 5));
      out->min = 1;
      out->max = 1 << 20;
      GF_RETURN_IF_ERROR(l.Opt("min", &out->min, 1, 1 << 24));
      GF_RETURN_IF_ERROR(l.Opt("max", &out->max, 1, 1 << 24));
      if (out->max < out->min) return l.ErrorAt("max", absl::StrCat(what, ".max is below min"), "max >= min");
      if (out->median < static_cast<double>(out->min) || out->median > static_cast<double>(out->max)) {
        return l.ErrorAt("median", absl::StrFormat("%s.median %g lies outside [min %d, max %d]", what, out->median, out->min, out->max),
                         "a median between min and max");
      }
    }
    return l.Finish();
  }

  absl::Status TraceFile(MapReader& m, const std::string& what, std::string* path, std::string* format) {
    GF_RETURN_IF_ERROR(m.Get("path", path));
    GF_RETURN_IF_ERROR(m.GetEnum("format", {"azure", "native"}, format));
    const std::string resolved = Resolve(*path);
    if (!std::filesystem::is_regular_file(resolved)) {
      return m.ErrorAt("path", absl::StrCat(what, ".path '", *path, "' is not a readable file (resolved to '", resolved, "')"),
                       "a trace file path, relative to the scenario file's folder or absolute");
    }
    *path = resolved;
    return absl::OkStatus();
  }

  // workload.filter.KEY: [lo, hi), integers 0 <= lo < hi, hi may be .inf.
  absl::Status TokenRangeAt(MapReader& f, const std::string& key, TokenRange* out) {
    if (!f.Has(key)) { f.Raw(key); return absl::OkStatus(); }
    const std::string what = absl::StrCat("workload.filter.", key);
    YAML::Node r = f.Raw(key);
    if (!r.IsSequence() || r.size() != 2) {
      return YamlError(file_, r, absl::StrCat(what, " is not a pair"), "[lo, hi]: tokens, lo <= n < hi; hi may be .inf");
    }
    GF_ASSIGN_OR_RETURN(out->lo, ScalarInt(file_, r[0], absl::StrCat(what, "[0]"), 0, 1 << 30));
    GF_ASSIGN_OR_RETURN(out->hi, ScalarDouble(file_, r[1], absl::StrCat(what, "[1]"), 1, kInf));
    if (std::isfinite(out->hi) && (out->hi != std::floor(out->hi) || out->hi > (1 << 30))) {
      return YamlError(file_, r[1], absl::StrCat(what, "[1] is ", r[1].Scalar()),
                       absl::StrCat("an integer in [1, ", 1 << 30, "] or .inf"));
    }
    if (!(out->hi > static_cast<double>(out->lo))) {
      return YamlError(file_, r[1], absl::StrCat(what, " is empty: [", out->lo, ", ", r[1].Scalar(), ")"), "hi > lo");
    }
    return absl::OkStatus();
  }

  // A synthetic length distribution whose every value the filter drops would make the run spin (or fail
  // after kMaxFilterDropsInRow): refused here, at the filter's range.
  absl::Status CheckFilterMeetsLengths(MapReader& f, const std::string& key, const TokenRange& r, const LengthSpec& len,
                                       const std::string& dist_what) {
    const int64_t min = len.kind == LengthSpec::Kind::kFixed ? len.value : len.min;
    const int64_t max = len.kind == LengthSpec::Kind::kFixed ? len.value : len.max;
    if (static_cast<double>(min) < r.hi && max >= r.lo) return absl::OkStatus();
    return f.ErrorAt(key, absl::StrFormat("workload.filter.%s [%d, %g) keeps none of %s, which lies in [%d, %d]", key, r.lo,
                                          r.hi, dist_what, min, max),
                     "a range that overlaps the synthetic token-length distribution");
  }

  absl::Status Filter(MapReader& w, WorkloadSpec* spec) {
    if (!w.Has("filter")) { w.Raw("filter"); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader f, MapReader::Make(file_, w.Raw("filter"), "workload.filter"));
    GF_RETURN_IF_ERROR(f.ExpectOnly({"prompt_tokens", "output_tokens"}));
    if (!f.Has("prompt_tokens") && !f.Has("output_tokens")) {
      return f.Error("workload.filter names no range", "prompt_tokens: [lo, hi] and/or output_tokens: [lo, hi]");
    }
    GF_RETURN_IF_ERROR(TokenRangeAt(f, "prompt_tokens", &spec->filter_prompt));
    GF_RETURN_IF_ERROR(TokenRangeAt(f, "output_tokens", &spec->filter_output));
    if (spec->source == WorkloadSpec::Source::kSynthetic && spec->resample_path.empty()) {
      if (f.Has("prompt_tokens")) {
        GF_RETURN_IF_ERROR(CheckFilterMeetsLengths(f, "prompt_tokens", spec->filter_prompt, spec->prompt_len,
                                                   "workload.synthetic.prompt_tokens"));
      }
      if (f.Has("output_tokens")) {
        GF_RETURN_IF_ERROR(CheckFilterMeetsLengths(f, "output_tokens", spec->filter_output, spec->output_len,
                                                   "workload.synthetic.output_tokens"));
      }
    }
    return f.Finish();
  }

  absl::Status Read(MapReader& top, Scenario* s) {
    GF_ASSIGN_OR_RETURN(MapReader w, MapReader::Make(file_, top.Raw("workload"), "workload"));
    GF_RETURN_IF_ERROR(w.ExpectOnly({"trace", "synthetic", "rate_multiplier", "window_s", "filter", "max_requests", "overlength",
                                     "priorities", "shared_prefix"}));
    WorkloadSpec& spec = s->workload;
    const bool has_trace = w.Has("trace"), has_synth = w.Has("synthetic");
    if (has_trace == has_synth) {
      return w.Error("workload needs exactly one of 'trace' or 'synthetic'",
                     "trace: {path, format} or synthetic: {arrival, rate_rps, prompt_tokens, output_tokens}");
    }
    if (has_trace) {
      spec.source = WorkloadSpec::Source::kTrace;
      GF_ASSIGN_OR_RETURN(MapReader t, MapReader::Make(file_, w.Raw("trace"), "workload.trace"));
      GF_RETURN_IF_ERROR(TraceFile(t, "workload.trace", &spec.trace_path, &spec.trace_format));
      int64_t copies = 1;
      GF_RETURN_IF_ERROR(t.Opt("superpose", &copies, 1, 1000));
      spec.superpose = static_cast<int>(copies);
      // Absent: the readers' own rule (traces/arrival_gaps.h); .inf turns the check off.
      GF_RETURN_IF_ERROR(t.Opt("max_gap_s", &spec.max_gap_s, 1e-9, kInf));
      GF_RETURN_IF_ERROR(t.Finish());
    } else {
      spec.source = WorkloadSpec::Source::kSynthetic;
      GF_ASSIGN_OR_RETURN(MapReader g, MapReader::Make(file_, w.Raw("synthetic"), "workload.synthetic"));
      GF_RETURN_IF_ERROR(g.OptEnum("arrival", {"poisson", "gamma"}, &spec.arrival));
      GF_RETURN_IF_ERROR(g.Get("rate_rps", &spec.rate_rps, 1e-9, 1e9));
      if (spec.arrival == "gamma") {
        GF_RETURN_IF_ERROR(g.Get("cv", &spec.cv, 0.01, 100));
      }
      if (g.Has("lengths_from")) {
        GF_ASSIGN_OR_RETURN(MapReader r, MapReader::Make(file_, g.Raw("lengths_from"), "workload.synthetic.lengths_from"));
        GF_RETURN_IF_ERROR(TraceFile(r, "workload.synthetic.lengths_from", &spec.resample_path, &spec.resample_format));
        GF_RETURN_IF_ERROR(r.Finish());
        if (g.Has("prompt_tokens") || g.Has("output_tokens")) {
          return g.ErrorAt("prompt_tokens", "workload.synthetic has both lengths_from and token distributions",
                           "either lengths_from or prompt_tokens + output_tokens");
        }
      } else {
        GF_RETURN_IF_ERROR(Length(g, "prompt_tokens", "workload.synthetic.prompt_tokens", &spec.prompt_len));
        GF_RETURN_IF_ERROR(Length(g, "output_tokens", "workload.synthetic.output_tokens", &spec.output_len));
      }
      GF_RETURN_IF_ERROR(g.Finish());
    }
    GF_RETURN_IF_ERROR(w.Opt("rate_multiplier", &spec.rate_multiplier, 1e-6, 1e6));
    if (w.Has("window_s")) {
      YAML::Node win = w.Raw("window_s");
      if (!win.IsSequence() || win.size() != 2) return YamlError(file_, win, "workload.window_s is not a pair", "[start_s, end_s]");
      GF_ASSIGN_OR_RETURN(spec.window_start_s, ScalarDouble(file_, win[0], "workload.window_s[0]", 0, kInf));
      GF_ASSIGN_OR_RETURN(spec.window_end_s, ScalarDouble(file_, win[1], "workload.window_s[1]", 0, kInf));
      if (spec.window_end_s <= spec.window_start_s) return YamlError(file_, win[1], "workload.window_s ends before it starts", "end_s > start_s");
      if (SyntheticRequestsBeforeWindow(spec) > kMaxSkippedSyntheticRequests) {
        return YamlError(file_, win[0],
                         absl::StrCat("workload.window_s starts at ", spec.window_start_s, " s, so the synthetic source "
                                      "would generate and discard about ", SyntheticRequestsBeforeWindow(spec),
                                      " requests before it"),
                         absl::StrCat("rate_rps x rate_multiplier x window start <= ", kMaxSkippedSyntheticRequests,
                                      " (a synthetic load is stationary: leave window_s out, or start it earlier)"));
      }
    } else {
      w.Raw("window_s");
    }
    GF_RETURN_IF_ERROR(Filter(w, &spec));
    GF_RETURN_IF_ERROR(w.Opt("max_requests", &spec.max_requests, 1));
    GF_RETURN_IF_ERROR(w.OptEnum("overlength", {"reject", "truncate"}, &s->overlength));
    GF_RETURN_IF_ERROR(Tags(w, &spec));
    if (spec.source == WorkloadSpec::Source::kSynthetic && !std::isfinite(s->horizon_s) &&
        spec.max_requests == std::numeric_limits<int64_t>::max()) {
      return w.Error("a synthetic workload never ends without a horizon", "horizon_s at top level or workload.max_requests");
    }
    return w.Finish();
  }

  // workload.priorities: [share of class 0, class 1, ...]; workload.shared_prefix: {groups, tokens, share, zipf}.
  absl::Status Tags(MapReader& w, WorkloadSpec* spec) {
    if (w.Has("priorities")) {
      GF_RETURN_IF_ERROR(w.Get("priorities", &spec->priority_shares, 0, 1e9));
      double total = 0;
      for (double x : spec->priority_shares) total += x;
      if (spec->priority_shares.empty() || !(total > 0)) {
        return w.ErrorAt("priorities", "workload.priorities has no positive share",
                         "shares of priority classes 0, 1, ... (larger = more important), e.g. [0.8, 0.2]");
      }
    } else {
      w.Raw("priorities");
    }
    if (!w.Has("shared_prefix")) { w.Raw("shared_prefix"); return absl::OkStatus(); }
    GF_ASSIGN_OR_RETURN(MapReader p, MapReader::Make(file_, w.Raw("shared_prefix"), "workload.shared_prefix"));
    GF_RETURN_IF_ERROR(p.Get("groups", &spec->prefix_groups, 1, 1'000'000));
    GF_RETURN_IF_ERROR(p.Get("tokens", &spec->prefix_tokens, 1, 1 << 30));
    GF_RETURN_IF_ERROR(p.Opt("share", &spec->prefix_share, 0, 1));
    GF_RETURN_IF_ERROR(p.Opt("zipf", &spec->prefix_zipf, 0, 10));
    return p.Finish();
  }

 private:
  std::string Resolve(const std::string& path) const { return ResolveScenarioPath(base_dir_, path); }

  const std::string& file_;
  const std::string& base_dir_;
};

}  // namespace

absl::Status ReadWorkloadSection(MapReader& top, const std::string& file, const std::string& base_dir, Scenario* s) {
  return WorkloadReader(file, base_dir).Read(top, s);
}

}  // namespace gpufleet
