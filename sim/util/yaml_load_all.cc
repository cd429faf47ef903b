// See yaml_load_all.h. A first pass runs the parser over the text with an event handler that only
// notes where each document starts: the stall shows as a document starting where the previous one
// did, since a document that consumes nothing leaves the parser on the same token. Without a stall the
// second pass, LoadAll itself, takes the same deterministic path and ends.
#include "sim/util/yaml_load_all.h"

#include <sstream>

#include "yaml-cpp/eventhandler.h"

namespace gpufleet {
namespace {

class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    stalled_ = started_ && mark.pos == last_.pos;
    started_ = true;
    last_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  bool stalled() const { return stalled_; }
  const YAML::Mark& last() const { return last_; }

 private:
  bool started_ = false;
  bool stalled_ = false;
  YAML::Mark last_ = YAML::Mark::null_mark();
};

}  // namespace

std::vector<YAML::Node> LoadAllDocuments(const std::string& text) {
  std::stringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  while (parser.HandleNextDocument(starts)) {
    if (starts.stalled()) {
      const size_t pos = static_cast<size_t>(starts.last().pos);
      const std::string token = pos < text.size() ? std::string(1, text[pos]) : std::string("end of input");
      throw YAML::ParserException(starts.last(), "unexpected '" + token + "' where a node or the end of the document belongs");
    }
  }
  return YAML::LoadAll(text);
}

}  // namespace gpufleet
