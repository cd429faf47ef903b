// Implementation of located YAML field access (see yaml_fields.h).
#include "sim/util/yaml_fields.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sim/util/yaml_load_all.h"

namespace gpufleet {
namespace {

// Debian's abseil has its own string_view type; std::string_view reaches StrCat through std::string.
std::string S(std::string_view v) { return std::string(v); }

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Scalar: return absl::StrCat("'", node.Scalar(), "'");
    default: return "nothing";
  }
}

// Full-string numeric parses: yaml-cpp's own conversions accept trailing junk in some versions.
bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  if (s == ".inf" || s == ".Inf" || s == "inf") { *out = INFINITY; return true; }
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || std::isnan(v)) return false;
  *out = v;
  return true;
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() || errno == ERANGE) {
    // Accept integral floats written as 1e6 or 1000.0.
    double d;
    if (!ParseDouble(s, &d) || d != std::floor(d) || std::fabs(d) > 9.0e18) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  *out = v;
  return true;
}

std::string RangeText(double min, double max) {
  const bool has_min = std::isfinite(min), has_max = std::isfinite(max);
  if (has_min && has_max) return absl::StrFormat(" in [%g, %g]", min, max);
  if (has_min) return absl::StrFormat(" >= %g", min);
  if (has_max) return absl::StrFormat(" <= %g", max);
  return "";
}

std::string IntRangeText(int64_t min, int64_t max) {
  const bool has_min = min != std::numeric_limits<int64_t>::min();
  const bool has_max = max != std::numeric_limits<int64_t>::max();
  if (has_min && has_max) return absl::StrFormat(" in [%d, %d]", min, max);
  if (has_min) return absl::StrFormat(" >= %d", min);
  if (has_max) return absl::StrFormat(" <= %d", max);
  return "";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or npos. yaml-cpp passes such bytes through untouched and the
// JSON report would throw on them at the very end of a run, so they are refused at load time.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else return i;
    if (i + len > s.size()) return i;
    const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      const unsigned char ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// The whole text, comments included: the scenario text is also stored with every run (SQLite).
// Line and column are counted in bytes, as yaml-cpp counts them (a leading BOM is not counted).
absl::Status CheckUtf8Text(const std::string& text, const std::string& name) {
  // YAML allows no raw control character but tab, LF and CR, and yaml-cpp mangles a NUL: "a\0_b" reads
  // back as "a\xA0b", invalid UTF-8 that the profile writer then passed on (found by tools/fuzz).
  const auto control = [](char ch) {
    const unsigned char c = static_cast<unsigned char>(ch);
    return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
  };
  const size_t bad = std::min(FirstInvalidUtf8(text),
                              static_cast<size_t>(std::find_if(text.begin(), text.end(), control) - text.begin()));
  if (bad >= text.size()) return absl::OkStatus();
  YAML::Mark mark;
  mark.pos = static_cast<int>(bad);
  const size_t line_start = bad == 0 ? std::string::npos : text.rfind('\n', bad - 1);
  mark.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'));
  mark.column = static_cast<int>(line_start == std::string::npos ? bad : bad - line_start - 1);
  if (mark.line == 0 && text.rfind("\xEF\xBB\xBF", 0) == 0) mark.column -= 3;
  return YamlError(name, mark,
                   absl::StrCat(control(text[bad]) ? "a control character" : "invalid UTF-8",
                                absl::StrFormat(" (byte 0x%02X)", static_cast<unsigned char>(text[bad]))),
                   control(text[bad]) ? "text without control characters (tab, line feed and carriage return only)"
                                      : "UTF-8 text");
}

// Where the second document of `text` starts: its '---' line when it has one, else its first node.
YAML::Mark SecondDocumentMark(const std::string& text, const YAML::Node& second) {
  YAML::Mark mark = second.Mark();
  const size_t end = std::min(text.size(), static_cast<size_t>(std::max(mark.pos, 0)));
  YAML::Mark marker = mark;
  bool dashes = false;
  int line = 0;
  for (size_t start = 0; start < end; ++line) {
    const std::string_view rest(text.data() + start, text.size() - start);
    const bool is_dashes = rest.rfind("---", 0) == 0 && (rest.size() == 3 || std::isspace(static_cast<unsigned char>(rest[3])));
    const bool is_dots = rest.rfind("...", 0) == 0 && (rest.size() == 3 || std::isspace(static_cast<unsigned char>(rest[3])));
    if (is_dashes || is_dots) {
      dashes = is_dashes;
      marker.pos = static_cast<int>(start);
      marker.line = line;
      marker.column = 0;
    }
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return dashes ? marker : mark;
}

// yaml-cpp keeps every pair of a mapping and lookups return the first, so a repeated key would be
// silently ignored. Walks the tree iteratively (no recursion limit), visiting an aliased node once.
absl::Status CheckDuplicateKeys(const std::string& file, const YAML::Node& root) {
  std::vector<YAML::Node> stack{root};
  std::set<std::pair<int, int>> visited;  // (position, type) of the collections seen
  while (!stack.empty()) {
    const YAML::Node node = stack.back();
    stack.pop_back();
    if (!node.IsMap() && !node.IsSequence()) continue;
    if (!visited.insert({node.Mark().pos, static_cast<int>(node.Type())}).second) continue;
    if (node.IsSequence()) {
      for (const auto& item : node) stack.push_back(item);
      continue;
    }
    std::map<std::string, YAML::Mark, std::less<>> seen;
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) {
        auto [it, inserted] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
        if (!inserted) {
          return YamlError(file, kv.first,
                           absl::StrFormat("duplicate key '%s' (first at line %d, column %d)", kv.first.Scalar(),
                                           it->second.line + 1, it->second.column + 1),
                           "each key once in a mapping");
        }
      }
      stack.push_back(kv.first);
      stack.push_back(kv.second);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status YamlError(const std::string& file, const YAML::Mark& mark, std::string_view what,
                       std::string_view expected) {
  std::string msg;
  if (mark.is_null() || mark.line < 0) {
    msg = absl::StrCat(file, ": ", S(what));
  } else {
    msg = absl::StrFormat("%s:%d:%d: %s", file, mark.line + 1, mark.column + 1, S(what));
  }
  if (!expected.empty()) absl::StrAppend(&msg, "; expected ", S(expected));
  return absl::InvalidArgumentError(msg);
}

absl::Status YamlError(const std::string& file, const YAML::Node& node, std::string_view what,
                       std::string_view expected) {
  return YamlError(file, node.IsDefined() ? node.Mark() : YAML::Mark::null_mark(), what, expected);
}

absl::StatusOr<YAML::Node> LoadYamlString(const std::string& text, const std::string& name) {
  if (absl::Status s = CheckUtf8Text(text, name); !s.ok()) return s;
  std::vector<YAML::Node> docs;
  try {
    docs = LoadAllDocuments(text);  // YAML::LoadAll can loop forever (yaml_load_all.h)
  } catch (const YAML::Exception& e) {
    return YamlError(name, e.mark, absl::StrCat("YAML syntax error: ", e.msg));
  }
  if (docs.empty()) return YAML::Node();  // empty or comments only: a null root, as YAML::Load gives
  // YAML::Load would read the first document and drop the rest without a word.
  if (docs.size() > 1) {
    return YamlError(name, SecondDocumentMark(text, docs[1]), "a second YAML document starts here",
                     "one document per file (remove the '---' line or split the file)");
  }
  if (absl::Status s = CheckDuplicateKeys(name, docs[0]); !s.ok()) return s;
  return docs[0];
}

absl::StatusOr<YAML::Node> LoadYamlFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream ss;
  ss << in.rdbuf();
  return LoadYamlString(ss.str(), path);
}

absl::StatusOr<MapReader> MapReader::Make(const std::string& file, const YAML::Node& node,
                                          std::string what) {
  if (!node.IsDefined() || !node.IsMap()) {
    return YamlError(file, node, absl::StrCat(S(what), " is ", node.IsDefined() ? Describe(node) : "missing"),
                     "a mapping of key: value");
  }
  return MapReader(file, node, std::move(what));
}

MapReader MapReader::Describing(std::vector<ParamInfo>* log, std::string what) {
  MapReader m("(describe)", YAML::Node(YAML::NodeType::Map), std::move(what));
  m.log_ = log;
  return m;
}

bool MapReader::Record(std::string_view key, std::string type, bool required, std::string default_value,
                       std::string range) {
  if (log_ == nullptr) return false;
  for (const ParamInfo& p : *log_) {
    if (p.name == key) return true;
  }
  log_->push_back(ParamInfo{std::string(key), std::move(type), required, std::move(default_value), std::move(range)});
  return true;
}

namespace {

template <class T>
std::string ParamRange(T min, T max) {
  const bool lo = min != std::numeric_limits<T>::lowest() && min != -std::numeric_limits<T>::infinity();
  const bool hi = max != std::numeric_limits<T>::max() && max != std::numeric_limits<T>::infinity();
  if (!lo && !hi) return "";
  return absl::StrCat("[", lo ? absl::StrCat(min) : "-inf", ", ", hi ? absl::StrCat(max) : "inf", "]");
}

std::string Quoted(const std::vector<std::string>& v) { return absl::StrJoin(v, ", "); }

}  // namespace

bool MapReader::Has(std::string_view key) const {
  return node_[std::string(key)].IsDefined() && !node_[std::string(key)].IsNull();
}

YAML::Node MapReader::Read(std::string_view key) {
  read_.insert(std::string(key));
  return node_[std::string(key)];
}

YAML::Node MapReader::Raw(std::string_view key, std::string_view shape) {
  Record(key, std::string(shape), false);
  return Read(key);
}

absl::Status MapReader::Missing(std::string_view key) const {
  return YamlError(file_, node_, absl::StrCat(what_, " has no '", S(key), "'"),
                   absl::StrCat("a '", S(key), "' key"));
}

absl::Status MapReader::ErrorAt(std::string_view key, std::string_view what, std::string_view expected) const {
  YAML::Node n = node_[std::string(key)];
  return YamlError(file_, n.IsDefined() ? n : node_, what, expected);
}

absl::Status MapReader::Error(std::string_view what, std::string_view expected) const {
  return YamlError(file_, node_, what, expected);
}

absl::Status MapReader::Get(std::string_view key, std::string* out) {
  if (Record(key, "string", true)) return absl::OkStatus();
  if (!Has(key)) return Missing(key);
  return Opt(key, out);
}
absl::Status MapReader::Get(std::string_view key, double* out, double min, double max) {
  if (Record(key, "number", true, "", ParamRange(min, max))) return absl::OkStatus();
  if (!Has(key)) return Missing(key);
  return Opt(key, out, min, max);
}
absl::Status MapReader::Get(std::string_view key, int64_t* out, int64_t min, int64_t max) {
  if (Record(key, "integer", true, "", ParamRange(min, max))) return absl::OkStatus();
  if (!Has(key)) return Missing(key);
  return Opt(key, out, min, max);
}
absl::Status MapReader::Get(std::string_view key, bool* out) {
  if (Record(key, "bool", true)) return absl::OkStatus();
  if (!Has(key)) return Missing(key);
  return Opt(key, out);
}
absl::Status MapReader::GetEnum(std::string_view key, const std::vector<std::string>& allowed, std::string* out) {
  if (Record(key, absl::StrCat("one of: ", Quoted(allowed)), true)) return absl::OkStatus();
  if (!Has(key)) return Missing(key);
  return OptEnum(key, allowed, out);
}

absl::Status MapReader::Opt(std::string_view key, std::string* out) {
  if (Record(key, "string", false, *out)) return absl::OkStatus();
  YAML::Node n = Read(key);
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  auto s = ScalarString(file_, n, absl::StrCat(what_, ".", S(key)));
  if (!s.ok()) return s.status();
  *out = *s;
  return absl::OkStatus();
}

absl::Status MapReader::Opt(std::string_view key, double* out, double min, double max) {
  if (Record(key, "number", false, absl::StrCat(*out), ParamRange(min, max))) return absl::OkStatus();
  YAML::Node n = Read(key);
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  auto v = ScalarDouble(file_, n, absl::StrCat(what_, ".", S(key)), min, max);
  if (!v.ok()) return v.status();
  *out = *v;
  return absl::OkStatus();
}

absl::Status MapReader::Opt(std::string_view key, int64_t* out, int64_t min, int64_t max) {
  if (Record(key, "integer", false, absl::StrCat(*out), ParamRange(min, max))) return absl::OkStatus();
  YAML::Node n = Read(key);
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  auto v = ScalarInt(file_, n, absl::StrCat(what_, ".", S(key)), min, max);
  if (!v.ok()) return v.status();
  *out = *v;
  return absl::OkStatus();
}

absl::Status MapReader::Opt(std::string_view key, bool* out) {
  if (Record(key, "bool", false, *out ? "true" : "false")) return absl::OkStatus();
  YAML::Node n = Read(key);
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  const std::string name = absl::StrCat(what_, ".", S(key));
  if (!n.IsScalar()) return YamlError(file_, n, absl::StrCat(name, " is ", Describe(n)), "true or false");
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "yes" || s == "on") { *out = true; return absl::OkStatus(); }
  if (s == "false" || s == "False" || s == "no" || s == "off") { *out = false; return absl::OkStatus(); }
  return YamlError(file_, n, absl::StrCat(name, " is ", Describe(n)), "true or false");
}

absl::Status MapReader::OptEnum(std::string_view key, const std::vector<std::string>& allowed, std::string* out) {
  if (Record(key, absl::StrCat("one of: ", Quoted(allowed)), false, *out)) return absl::OkStatus();
  std::string v;
  const bool present = Has(key);
  auto st = Opt(key, &v);
  if (!st.ok() || !present) return st;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string hint;
    if (std::string close = ClosestMatch(v, allowed); !close.empty()) hint = absl::StrCat(" (did you mean '", close, "'?)");
    return ErrorAt(key, absl::StrCat(what_, ".", S(key), " is '", v, "'", hint),
                   absl::StrCat("one of: ", absl::StrJoin(allowed, ", ")));
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status MapReader::Get(std::string_view key, std::vector<double>* out, double min, double max) {
  if (Record(key, "list of numbers", true, "", ParamRange(min, max))) return absl::OkStatus();
  if (!Has(key)) return Missing(key);
  YAML::Node n = Read(key);
  const std::string name = absl::StrCat(what_, ".", S(key));
  if (!n.IsSequence()) return YamlError(file_, n, absl::StrCat(name, " is ", Describe(n)), "a list of numbers");
  out->clear();
  for (const auto& item : n) {
    auto v = ScalarDouble(file_, item, name, min, max);
    if (!v.ok()) return v.status();
    out->push_back(*v);
  }
  return absl::OkStatus();
}

absl::Status MapReader::Opt(std::string_view key, std::vector<std::string>* out) {
  if (Record(key, "list of strings", false, absl::StrCat("[", absl::StrJoin(*out, ", "), "]"))) return absl::OkStatus();
  YAML::Node n = Read(key);
  if (!n.IsDefined() || n.IsNull()) return absl::OkStatus();
  const std::string name = absl::StrCat(what_, ".", S(key));
  if (!n.IsSequence()) return YamlError(file_, n, absl::StrCat(name, " is ", Describe(n)), "a list of strings");
  out->clear();
  for (const auto& item : n) {
    auto s = ScalarString(file_, item, name);
    if (!s.ok()) return s.status();
    out->push_back(*s);
  }
  return absl::OkStatus();
}

absl::Status MapReader::Finish() const {
  std::vector<std::string> known(read_.begin(), read_.end());
  for (const auto& kv : node_) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (read_.count(key)) continue;
    std::string hint;
    if (std::string close = ClosestMatch(key, known); !close.empty()) hint = absl::StrCat(" (did you mean '", close, "'?)");
    return YamlError(file_, kv.first, absl::StrCat("unknown key '", S(key), "' in ", what_, hint),
                     absl::StrCat("one of: ", absl::StrJoin(known, ", ")));
  }
  return absl::OkStatus();
}

absl::Status MapReader::ExpectOnly(const std::vector<std::string>& allowed) const {
  for (const auto& kv : node_) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string hint;
    if (std::string close = ClosestMatch(key, allowed); !close.empty()) hint = absl::StrCat(" (did you mean '", close, "'?)");
    return YamlError(file_, kv.first, absl::StrCat("unknown key '", key, "' in ", what_, hint),
                     absl::StrCat("one of: ", absl::StrJoin(allowed, ", ")));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> ScalarDouble(const std::string& file, const YAML::Node& node, std::string_view what,
                                    double min, double max) {
  double v;
  if (!node.IsScalar() || !ParseDouble(node.Scalar(), &v)) {
    return YamlError(file, node, absl::StrCat(S(what), " is ", Describe(node)), absl::StrCat("a number", RangeText(min, max)));
  }
  if (v < min || v > max) {
    return YamlError(file, node, absl::StrCat(S(what), " is ", node.Scalar(), ", out of range"),
                     absl::StrCat("a number", RangeText(min, max)));
  }
  return v;
}

absl::StatusOr<int64_t> ScalarInt(const std::string& file, const YAML::Node& node, std::string_view what,
                                  int64_t min, int64_t max) {
  int64_t v;
  if (!node.IsScalar() || !ParseInt(node.Scalar(), &v)) {
    return YamlError(file, node, absl::StrCat(S(what), " is ", Describe(node)),
                     absl::StrCat("an integer", IntRangeText(min, max)));
  }
  if (v < min || v > max) {
    return YamlError(file, node, absl::StrCat(S(what), " is ", node.Scalar(), ", out of range"),
                     absl::StrCat("an integer", IntRangeText(min, max)));
  }
  return v;
}

absl::StatusOr<std::string> ScalarString(const std::string& file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) return YamlError(file, node, absl::StrCat(S(what), " is ", Describe(node)), "a string");
  // Text from LoadYamlString is already checked whole; nodes built elsewhere (tests, policy configs
  // made in code) are checked here, before a string can reach a report.
  if (FirstInvalidUtf8(node.Scalar()) != std::string_view::npos) {
    return YamlError(file, node, absl::StrCat(S(what), " is not valid text: invalid UTF-8"), "a UTF-8 string");
  }
  return node.Scalar();
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  // An abbreviation ("H100") suggests the shortest name containing it ("H100-SXM-80GB"), which edit
  // distance alone would miss; otherwise the nearest name within a third of the word's length.
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  const std::string w = lower(word);
  std::string best;
  for (const auto& c : candidates) {
    if (w.size() >= 2 && lower(c).find(w) != std::string::npos && (best.empty() || c.size() < best.size())) best = c;
  }
  if (!best.empty()) return best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_d) { best_d = d; best = c; }
  }
  return best;
}

std::string YamlWhere(const std::string& file, const YAML::Node& node) {
  return absl::StrCat(file, ":", node.Mark().line + 1, ":", node.Mark().column + 1);
}

std::string YamlFlowText(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

}  // namespace gpufleet
