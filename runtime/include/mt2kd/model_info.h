// What a model says about itself: parsed once from the metadata JSON that the exporter wrote
// (model.json, ONNX metadata, or the .pte's `mt2kd_metadata` method). Nothing here restates a
// shape: every size comes from that document.
//
// Nothing in the document is trusted either: FromJson checks that it is consistent with itself
// (the vocabulary against the CTC output width, the labels against the tag output width, the chunk
// against the frame rate, bounded tensor sizes), and the Engine then checks it against one real
// step of the model (see Engine::Engine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mt2kd {

// Input sample rates the runtime accepts, in Hz (the model's own and the resampler's input).
// Outside this range a rate is a broken header or a bug, not audio: refusing it bounds the
// resampler's filter bank and keeps a 1 Hz header from "playing" for hours.
inline constexpr int kMinSampleRate = 4000;
inline constexpr int kMaxSampleRate = 192000;

struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // without the batch axis
  bool reset_at_segment = false;  // cleared at an endpoint (speaker statistics)

  int64_t NumElements() const;  // per batch item
  std::string ShapeString(int64_t batch = -1) const;  // "(batch, d1, d2)", or "(d1, d2)" without one
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
  std::string input_name;           // the samples input
  std::vector<TensorInfo> outputs;  // spec order
  std::vector<TensorInfo> states;   // spec order
  std::vector<std::string> tokens;  // CTC units; index 0 is the blank
  std::vector<LabelInfo> labels;    // tag classes
  std::string backend, precision;   // as exported ("onnx"/"executorch", "fp32"/"int8")
  std::string where;                // the file the document came from, for error messages
  std::string json;                 // the document itself

  // Throws std::invalid_argument naming `where` if the document is not a supported model or
  // contradicts itself.
  static ModelInfo FromJson(const std::string &json, const std::string &where);

  int OutputIndex(const std::string &name) const;  // throws if absent
  int SpeechLabelIndex() const;                    // the "Speech" class, or -1
};

}  // namespace mt2kd
