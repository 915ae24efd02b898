// The streaming engine: one encoder pass per chunk feeds ASR, rolling tagging and the speaker
// embedding. The Engine is shared and read-only (safe from many threads); each Stream owns its
// buffers, model state and results and is used by one thread at a time.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mt2kd/asr_result.h"
#include "mt2kd/backend.h"
#include "mt2kd/chunker.h"
#include "mt2kd/ctc_decoder.h"
#include "mt2kd/endpointer.h"
#include "mt2kd/event_maker.h"
#include "mt2kd/resampler.h"
#include "mt2kd/tag_aggregator.h"

namespace mt2kd {

struct EngineConfig {
  DecodingConfig decoding;
  TaggingConfig tagging;
  EndpointConfig endpoint;
  bool resample = true;  // resample other input rates to the model's; false: refuse them
  void Validate(int frame_shift_ms) const;  // throws std::invalid_argument; the Engine calls it
  std::string ToString() const;
};

class Engine;

class Stream {
 public:
  ~Stream();
  // float32 samples in [-1, 1] (or int16) at any rate in kMinSampleRate-kMaxSampleRate; other
  // rates than the model's are resampled when allowed. Bad input (NaN/Inf, out-of-range floats, a
  // rate out of range or changed, audio after InputFinished) throws std::invalid_argument, naming
  // the sample by its index in the whole stream, and leaves the stream as it was.
  void AcceptWaveform(int sample_rate, const float *samples, size_t n);
  void AcceptInt16(int sample_rate, const int16_t *samples, size_t n);
  void InputFinished();

  bool IsReady() const;     // a chunk waits for the engine
  bool IsFinished() const;  // input finished and every chunk decoded
  bool IsEndpoint() const;
  AsrResult GetResult() const;
  // Start the next segment after an endpoint; the acoustic context is kept. It does not reopen a
  // finished input: for more audio after InputFinished, create a new stream.
  void Reset();

  // The events of the chunk decoded since the last call (see event_maker.h for the rules), named
  // by `speakers`. Call it after every decode of this stream: more than one chunk decoded since
  // the last call throws std::logic_error, since an endpoint among them would have gone unseen.
  // At an endpoint it starts the next segment itself (Reset), unless the input is finished; a
  // stream read through TakeEvents needs no Reset from its caller.
  std::vector<StreamEvent> TakeEvents(const SpeakerNaming &speakers = {});

  std::vector<TagScore> TopTags() const;
  std::vector<TagEvent> ActiveTagEvents() const;
  std::vector<TagEvent> TakeStartedTagEvents();   // TakeEvents takes these too: read tags through one of them
  std::vector<TagEvent> TakeFinishedTagEvents();
  std::vector<float> SpeakerEmbedding() const;  // of the current segment, as of the last chunk
  double ProcessedSeconds() const;              // audio decoded so far
  double SpeechSeconds() const;                 // of the current segment, where P(Speech) >= speech_threshold
  int64_t NumChunksDecoded() const { return chunks_decoded_; }

 private:
  friend class Engine;
  Stream(const Engine *engine, std::shared_ptr<const ContextGraph> hotwords);
  void Consume(const std::vector<float> &log_probs, const std::vector<float> &tag_probs,
               const std::vector<float> &embedding, std::vector<Tensor> states);
  void FeedChunker(const std::vector<float> &samples);

  const Engine *engine_;
  Chunker chunker_;
  std::unique_ptr<Resampler> resampler_;
  std::vector<Tensor> states_;
  CtcDecoder decoder_;
  TagAggregator tagger_;
  Endpointer endpointer_;
  EventMaker event_maker_;
  std::vector<float> embedding_;
  int64_t frames_ = 0, segment_start_frame_ = 0, chunks_decoded_ = 0;
  int64_t events_taken_at_chunk_ = 0;  // chunks_decoded_ when TakeEvents last ran
  int64_t input_samples_ = 0;  // accepted so far at the caller's rate (positions in error messages)
  int64_t real_frames_ = 0;  // frames that hold real audio (the rest of the last chunk is padding)
  int segment_ = 0;
};

// Where decoding time goes, summed over all calls (thread-safe): the model's step against the
// core's own work (buffering, stacking states, decoding, tagging, endpointing).
struct DecodeTiming {
  double model_s = 0;
  double core_s = 0;
  double decoder_s = 0;  // the part of core_s spent in the CTC decoder (beam search, LM, hotwords)
  int64_t chunks = 0;
};

class Engine {
 public:
  // Validates the config and loads the LM it names (a missing or corrupt file throws
  // std::invalid_argument naming it), then runs one step of the model on silence and checks what comes back
  // against the metadata (tensor count and shapes, finite values). A model whose metadata does
  // not describe it, or whose weights are corrupt, is refused here with std::invalid_argument
  // naming the file, not mid-stream.
  Engine(std::shared_ptr<Backend> backend, const EngineConfig &config);
  // `hotwords` (from MakeHotwords) bias this stream's decoding; they need beam search.
  std::unique_ptr<Stream> CreateStream(std::shared_ptr<const ContextGraph> hotwords = nullptr) const;
  // Hotwords checked against the model's tokens (a phrase they cannot spell, or a boost out of
  // range, throws std::invalid_argument naming it). An empty list gives nullptr: no biasing.
  std::shared_ptr<const ContextGraph> MakeHotwords(const std::vector<Hotword> &hotwords) const;
  const NgramLm *Lm() const { return lm_.get(); }  // the loaded LM, or nullptr
  // Decodes one chunk of every ready stream, batched as far as the backend allows. A step that
  // fails (the backend throws, or returns wrong shapes or NaN/Inf: std::runtime_error naming the
  // file) changes nothing in the streams of its batch: retrying decodes the same chunks.
  void DecodeStreams(const std::vector<Stream *> &streams) const;
  const ModelInfo &Info() const { return backend_->Info(); }
  const EngineConfig &Config() const { return config_; }
  const Backend &GetBackend() const { return *backend_; }
  DecodeTiming Timing() const;

 private:
  friend class Stream;
  // Throws `Error` naming the model file unless `result` is what the metadata promises for `batch`.
  template <typename Error>
  void CheckStep(const StepResult &result, int batch) const;

  std::shared_ptr<Backend> backend_;
  EngineConfig config_;
  std::shared_ptr<const NgramLm> lm_;  // loaded once from config_.decoding.lm, shared by all streams
  int ctc_index_, tag_index_, speaker_index_, speech_label_;
  mutable std::atomic<int64_t> model_ns_{0}, total_ns_{0}, decoder_ns_{0}, chunks_{0};
};

}  // namespace mt2kd
