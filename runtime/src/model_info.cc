#include "mt2kd/model_info.h"

#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace mt2kd {

namespace {

constexpr const char *kFormat = "mt2kd-edge-model";
constexpr int kFormatVersion = 1;
// Bounds on what a document may ask the runtime to allocate per stream. The real model's largest
// state has 12288 values; a tampered shape must not become a multi-gigabyte allocation.
constexpr int64_t kMaxTensorElements = int64_t{1} << 24;
constexpr int64_t kMaxStateElements = int64_t{1} << 24;  // all states of one stream together
constexpr int64_t kMaxChunkSeconds = 10;
constexpr size_t kMaxTokens = size_t{1} << 20;
constexpr size_t kMaxLabels = size_t{1} << 16;

// Error text is one short line of ASCII: a parser's "last read" excerpt of a damaged file, or a
// tensor named "a\nb", must not garble (or, as bytes that are not UTF-8, break) the message.
std::string Printable(std::string s, size_t max_bytes = 300) {
  if (s.size() > max_bytes) s = s.substr(0, max_bytes) + "...";
  for (char &c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  return s;
}

// A problem with the document; FromJson prefixes the file name.
struct Bad : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

int64_t Integer(const nlohmann::json &obj, const char *key, int64_t lo, int64_t hi) {
  const auto &v = obj.at(key);
  // get<int>() would silently truncate 8.5 or wrap 2^40; a count must be a plain integer.
  if (!v.is_number_integer()) throw Bad(std::string(key) + " is " + v.dump().substr(0, 40) + "; it must be an integer");
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                        ? INT64_MAX
                        : v.get<int64_t>();
  if (x < lo || x > hi)
    throw Bad(std::string(key) + " is " + std::to_string(x) + "; it must be in " + std::to_string(lo) + "-" +
              std::to_string(hi));
  return x;
}

std::vector<TensorInfo> ParseTensors(const nlohmann::json &list, const char *what) {
  if (!list.is_array()) throw Bad(std::string(what) + " must be a list");
  std::vector<TensorInfo> out;
  for (const auto &t : list) {
    TensorInfo info;
    info.name = t.at("name").get<std::string>();
    if (info.name.empty()) throw Bad(std::string("a tensor in ") + what + " has an empty name");
    const auto &shape = t.at("shape");
    if (!shape.is_array() || shape.empty()) throw Bad("tensor " + info.name + ": shape must be a non-empty list");
    for (const auto &d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > kMaxTensorElements)
        throw Bad("tensor " + info.name + ": shape " + shape.dump().substr(0, 60) + " must hold positive integers");
      info.shape.push_back(d.get<int64_t>());
    }
    if (info.NumElements() > kMaxTensorElements)
      throw Bad("tensor " + info.name + ": shape " + shape.dump().substr(0, 60) + " is too large (over " +
                std::to_string(kMaxTensorElements) + " values)");
    const std::string reset = t.value("reset", std::string("stream"));
    if (reset != "stream" && reset != "segment")
      throw Bad("tensor " + info.name + ": reset must be 'stream' or 'segment', got '" + reset + "'");
    info.reset_at_segment = reset == "segment";
    if (t.value("dtype", std::string("float32")) != "float32")
      throw Bad("tensor " + info.name + " is not float32; this runtime carries float state only");
    out.push_back(std::move(info));
  }
  return out;
}

void ExpectShape(const ModelInfo &info, const char *name, const std::vector<int64_t> &want, const std::string &why) {
  const TensorInfo &t = info.outputs[info.OutputIndex(name)];
  if (t.shape != want)
    throw Bad(std::string("output ") + name + " has shape " + t.ShapeString() + " but " + why + " make it " +
              TensorInfo{name, want}.ShapeString());
}

// The document must agree with itself before anything is sized from it.
void CheckConsistent(const ModelInfo &info) {
  if (info.chunk_samples % info.frames_per_chunk != 0 ||
      int64_t{info.chunk_samples} / info.frames_per_chunk * 1000 != int64_t{info.frame_shift_ms} * info.sample_rate)
    throw Bad("chunk_samples " + std::to_string(info.chunk_samples) + " at " + std::to_string(info.sample_rate) +
              " Hz is not frames_per_chunk " + std::to_string(info.frames_per_chunk) + " x frame_shift_ms " +
              std::to_string(info.frame_shift_ms));
  std::set<std::string> names{info.input_name};
  int64_t state_elements = 0;
  for (const auto *list : {&info.outputs, &info.states})
    for (const auto &t : *list)
      if (!names.insert(t.name).second) throw Bad("tensor name " + t.name + " appears twice");
  for (const auto &s : info.states) state_elements += s.NumElements();
  if (state_elements > kMaxStateElements) throw Bad("the states hold " + std::to_string(state_elements) + " values; too large");
  if (info.tokens.size() < 2 || info.tokens.size() > kMaxTokens)
    throw Bad("tokens must list the blank and at least one unit (got " + std::to_string(info.tokens.size()) + ")");
  if (info.labels.empty() || info.labels.size() > kMaxLabels)
    throw Bad("labels must list at least one class (got " + std::to_string(info.labels.size()) + ")");
  const int64_t frames = info.frames_per_chunk;
  ExpectShape(info, "ctc_log_probs", {frames, static_cast<int64_t>(info.tokens.size())},
              std::to_string(info.tokens.size()) + " tokens and " + std::to_string(frames) + " frames per chunk");
  ExpectShape(info, "tag_probs", {frames, static_cast<int64_t>(info.labels.size())},
              std::to_string(info.labels.size()) + " labels and " + std::to_string(frames) + " frames per chunk");
  if (info.outputs[info.OutputIndex("speaker_embedding")].shape.size() != 1)
    throw Bad("output speaker_embedding must be one vector per stream, got shape " +
              info.outputs[info.OutputIndex("speaker_embedding")].ShapeString());
}

}  // namespace

int64_t TensorInfo::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // each d <= 2^24 and checked one at a time by the parser
  return n;
}

std::string TensorInfo::ShapeString(int64_t batch) const {
  std::string s = batch >= 0 ? "(" + std::to_string(batch) : "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i || batch >= 0 ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

ModelInfo ModelInfo::FromJson(const std::string &json, const std::string &where) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const std::exception &e) {
    throw std::invalid_argument(where + ": model metadata is not valid JSON (" + Printable(e.what()) + ")");
  }
  if (!doc.is_object() || doc.value("format", nlohmann::json()) != kFormat)
    throw std::invalid_argument(where + ": not an mt2kd-edge model");
  if (doc.value("format_version", nlohmann::json()) != kFormatVersion)
    throw std::invalid_argument(where + ": model format version " +
                                Printable(doc.value("format_version", nlohmann::json()).dump().substr(0, 40)) +
                                " is not supported (this build reads version " + std::to_string(kFormatVersion) + ")");
  ModelInfo info;
  info.where = where;
  try {
    const auto &spec = doc.at("streaming_spec");
    info.sample_rate = static_cast<int>(Integer(spec, "sample_rate", kMinSampleRate, kMaxSampleRate));
    info.chunk_samples = static_cast<int>(Integer(spec, "chunk_samples", 1, kMaxChunkSeconds * kMaxSampleRate));
    info.frames_per_chunk = static_cast<int>(Integer(spec, "frames_per_chunk", 1, info.chunk_samples));
    info.frame_shift_ms = static_cast<int>(Integer(spec, "frame_shift_ms", 1, kMaxChunkSeconds * 1000));
    const auto input = ParseTensors(nlohmann::json::array({spec.at("input")}), "input");
    info.input_name = input[0].name;
    if (input[0].shape != std::vector<int64_t>{info.chunk_samples})
      throw Bad("input " + info.input_name + " has shape " + input[0].ShapeString() + " but chunk_samples is " +
                std::to_string(info.chunk_samples));
    info.outputs = ParseTensors(spec.at("outputs"), "outputs");
    info.states = ParseTensors(spec.at("states"), "states");
    info.tokens = doc.at("tokens").get<std::vector<std::string>>();
    for (const auto &l : doc.at("labels")) info.labels.push_back({l.at("mid").get<std::string>(), l.at("name").get<std::string>()});
    info.backend = doc.value("backend", std::string());
    info.precision = doc.value("precision", std::string());
    CheckConsistent(info);
  } catch (const nlohmann::json::exception &e) {
    throw std::invalid_argument(where + ": incomplete model metadata (" + Printable(e.what()) + ")");
  } catch (const std::invalid_argument &e) {
    throw std::invalid_argument(where + ": invalid model metadata: " + Printable(e.what()));
  }
  info.json = json;
  return info;
}

int ModelInfo::OutputIndex(const std::string &name) const {
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].name == name) return static_cast<int>(i);
  throw std::invalid_argument("model has no output named '" + name + "'");
}

int ModelInfo::SpeechLabelIndex() const {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i].name == "Speech") return static_cast<int>(i);
  return -1;
}

}  // namespace mt2kd
