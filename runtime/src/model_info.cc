#include "mt2kd/model_info.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mt2kd {

namespace {

constexpr const char *kFormat = "mt2kd-edge-model";
constexpr int kFormatVersion = 1;

std::vector<TensorInfo> ParseTensors(const nlohmann::json &list) {
  std::vector<TensorInfo> out;
  for (const auto &t : list) {
    TensorInfo info;
    info.name = t.at("name").get<std::string>();
    info.shape = t.at("shape").get<std::vector<int64_t>>();
    info.reset_at_segment = t.value("reset", std::string("stream")) == "segment";
    if (t.value("dtype", std::string("float32")) != "float32")
      throw std::invalid_argument("tensor " + info.name + " is not float32; this runtime carries float state only");
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace

ModelInfo ModelInfo::FromJson(const std::string &json, const std::string &where) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const std::exception &e) {
    throw std::invalid_argument(where + ": model metadata is not valid JSON (" + e.what() + ")");
  }
  if (!doc.is_object() || doc.value("format", std::string()) != kFormat)
    throw std::invalid_argument(where + ": not an mt2kd-edge model");
  if (doc.value("format_version", -1) != kFormatVersion)
    throw std::invalid_argument(where + ": model format version " + doc.value("format_version", nlohmann::json()).dump() +
                                " is not supported (this build reads version " + std::to_string(kFormatVersion) + ")");
  ModelInfo info;
  try {
    const auto &spec = doc.at("streaming_spec");
    info.sample_rate = spec.at("sample_rate").get<int>();
    info.chunk_samples = spec.at("chunk_samples").get<int>();
    info.frames_per_chunk = spec.at("frames_per_chunk").get<int>();
    info.frame_shift_ms = spec.at("frame_shift_ms").get<int>();
    info.outputs = ParseTensors(spec.at("outputs"));
    info.states = ParseTensors(spec.at("states"));
    info.tokens = doc.at("tokens").get<std::vector<std::string>>();
    for (const auto &l : doc.at("labels")) info.labels.push_back({l.at("mid").get<std::string>(), l.at("name").get<std::string>()});
    info.backend = doc.value("backend", std::string());
    info.precision = doc.value("precision", std::string());
  } catch (const nlohmann::json::exception &e) {
    throw std::invalid_argument(where + ": incomplete model metadata (" + e.what() + ")");
  }
  for (const char *name : {"ctc_log_probs", "tag_probs", "speaker_embedding"}) info.OutputIndex(name);
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
