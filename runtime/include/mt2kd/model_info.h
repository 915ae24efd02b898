// What a model says about itself: parsed once from the metadata JSON that the exporter wrote
// (model.json, ONNX metadata, or the .pte's `mt2kd_metadata` method). Nothing here restates a
// shape: every size comes from that document.
#pragma once

#include <string>
#include <vector>

namespace mt2kd {

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // without the batch axis
  bool reset_at_segment = false;  // cleared at an endpoint (speaker statistics)
};

struct LabelInfo {
  std::string mid;
  std::string name;
};

struct ModelInfo {
  int sample_rate = 0;         // Hz of the input samples
  int chunk_samples = 0;       // samples per step
  int frames_per_chunk = 0;    // encoder frames per step
  int frame_shift_ms = 0;      // ms per encoder frame
  std::vector<TensorInfo> outputs;  // spec order
  std::vector<TensorInfo> states;   // spec order
  std::vector<std::string> tokens;  // CTC units; index 0 is the blank
  std::vector<LabelInfo> labels;    // tag classes
  std::string backend, precision;   // as exported ("onnx"/"executorch", "fp32"/"int8")
  std::string json;                 // the document itself

  // Throws std::invalid_argument naming `where` if the document is not a supported model.
  static ModelInfo FromJson(const std::string &json, const std::string &where);

  int OutputIndex(const std::string &name) const;  // throws if absent
  int SpeechLabelIndex() const;                    // the "Speech" class, or -1
};

}  // namespace mt2kd
