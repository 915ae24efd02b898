#include "mt2kd/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace mt2kd {

// Every field, by the name the Python bindings give it (a test holds that), grouped by section.
std::string EngineConfig::ToString() const {
  std::ostringstream os;
  const auto on = [](bool b) { return b ? "on" : "off"; };
  os << "EngineConfig(decoding=(beam_size=" << decoding.beam_size << ", tokens_per_frame=" << decoding.tokens_per_frame
     << ", lm='" << decoding.lm << "', lm_weight=" << decoding.lm_weight << ", word_bonus=" << decoding.word_bonus
     << ", oov_penalty=" << decoding.oov_penalty << ", hotword_boost=" << decoding.hotword_boost
     << ", max_revised_words=" << decoding.max_revised_words << ", lm_lookahead=" << on(decoding.lm_lookahead)
     << "), tagging=(window_ms=" << tagging.window_ms
     << ", hop_ms=" << tagging.hop_ms << ", top_k=" << tagging.top_k << ", on_threshold=" << tagging.on_threshold
     << ", off_threshold=" << tagging.off_threshold << ", min_event_ms=" << tagging.min_event_ms
     << "), endpoint=(enabled=" << on(endpoint.enabled) << ", trailing_silence_ms=" << endpoint.trailing_silence_ms
     << ", no_speech_timeout_ms=" << endpoint.no_speech_timeout_ms << ", min_speech_ms=" << endpoint.min_speech_ms
     << ", max_utterance_ms=" << endpoint.max_utterance_ms << ", speech_threshold=" << endpoint.speech_threshold
     << ", tagger_vote_with_text=" << on(endpoint.tagger_vote_with_text) << "), resample=" << on(resample) << ")";
  return os.str();
}

// ---------------------------------------------------------------- Engine

void EngineConfig::Validate(int frame_shift_ms) const {
  decoding.Validate();
  endpoint.Validate();
  tagging.Validate(frame_shift_ms);
}

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Backend errors (onnxruntime's among them) can span lines; the runtime's errors are one line.
// A Python backend's error carries its traceback after "At:" (pybind11): that is dropped.
std::string OneLine(std::string s) {
  const size_t traceback = s.find("\n\nAt:\n");
  if (traceback != std::string::npos) s.resize(traceback);
  std::replace(s.begin(), s.end(), '\n', ' ');
  s.erase(std::unique(s.begin(), s.end(), [](char a, char b) { return a == ' ' && b == ' '; }), s.end());
  return s;
}

bool AllFinite(const std::vector<float> &v) {
  for (float x : v)
    if (!std::isfinite(x)) return false;
  return true;
}
}  // namespace

Engine::Engine(std::shared_ptr<Backend> backend, const EngineConfig &config)
    : backend_(std::move(backend)), config_(config) {
  if (!backend_) throw std::invalid_argument("Engine needs a backend");
  const ModelInfo &info = backend_->Info();
  config_.Validate(info.frame_shift_ms);
  if (!config_.decoding.lm.empty()) lm_ = NgramLm::Load(config_.decoding.lm);
  ctc_index_ = info.OutputIndex("ctc_log_probs");
  tag_index_ = info.OutputIndex("tag_probs");
  speaker_index_ = info.OutputIndex("speaker_embedding");
  speech_label_ = info.SpeechLabelIndex();
  // One real step at load, on silence from the initial state: the metadata is checked against
  // what the model really computes before any stream depends on it.
  std::vector<Tensor> states;
  for (const auto &s : info.states) {
    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), s.shape.begin(), s.shape.end());
    states.emplace_back(shape);
  }
  StepResult probe;
  try {
    probe = backend_->Step(1, std::vector<float>(info.chunk_samples, 0.0f), states);
  } catch (const std::exception &e) {
    throw std::invalid_argument(info.where + ": the model does not run with the shapes its metadata gives (" +
                                OneLine(e.what()) + ")");
  }
  CheckStep<std::invalid_argument>(probe, 1);
}

template <typename Error>
void Engine::CheckStep(const StepResult &result, int batch) const {
  const ModelInfo &info = Info();
  if (result.outputs.size() != info.outputs.size() || result.states.size() != info.states.size())
    throw Error(info.where + ": the model returned " + std::to_string(result.outputs.size()) + " outputs and " +
                std::to_string(result.states.size()) + " states; its metadata lists " +
                std::to_string(info.outputs.size()) + " and " + std::to_string(info.states.size()));
  for (const auto *group : {&result.outputs, &result.states}) {
    const bool outputs = group == &result.outputs;
    for (size_t k = 0; k < group->size(); ++k) {
      const Tensor &t = (*group)[k];
      const TensorInfo &spec = outputs ? info.outputs[k] : info.states[k];
      std::vector<int64_t> want{batch};
      want.insert(want.end(), spec.shape.begin(), spec.shape.end());
      if (t.shape != want || static_cast<int64_t>(t.data.size()) != Tensor::NumElements(want))
        throw Error(info.where + ": the model's " + (outputs ? "output " : "state ") + spec.name + " has shape " +
                    t.ShapeString() + " but its metadata says " + spec.ShapeString(batch));
      // NaN passed on would become tags of NaN, an empty transcript and a NaN voiceprint.
      if (!AllFinite(t.data))
        throw Error(info.where + ": the model step gave NaN or Inf in " + spec.name +
                    " (corrupt weights? check the file against its manifest.json)");
    }
  }
}

std::unique_ptr<Stream> Engine::CreateStream(std::shared_ptr<const ContextGraph> hotwords) const {
  return std::unique_ptr<Stream>(new Stream(this, std::move(hotwords)));
}

std::shared_ptr<const ContextGraph> Engine::MakeHotwords(const std::vector<Hotword> &hotwords) const {
  if (hotwords.empty()) return nullptr;
  if (config_.decoding.beam_size < 2)
    throw std::invalid_argument("hotwords need beam search: beam_size must be 2 or more (it is 1, greedy)");
  return std::make_shared<const ContextGraph>(hotwords, config_.decoding.hotword_boost, Info().tokens);
}

DecodeTiming Engine::Timing() const {
  return {model_ns_.load() * 1e-9, (total_ns_.load() - model_ns_.load()) * 1e-9, decoder_ns_.load() * 1e-9,
          chunks_.load()};
}

void Engine::DecodeStreams(const std::vector<Stream *> &streams) const {
  const int64_t start_ns = NowNs();
  std::vector<Stream *> ready;
  for (Stream *s : streams)  // a stream listed twice still gets one chunk: its state goes in once
    if (s && s->IsReady() && std::find(ready.begin(), ready.end(), s) == ready.end()) ready.push_back(s);
  const int max_batch = backend_->MaxBatch() > 0 ? backend_->MaxBatch() : static_cast<int>(ready.size());
  const ModelInfo &info = Info();
  for (size_t begin = 0; begin < ready.size(); begin += max_batch) {
    const size_t end = std::min(ready.size(), begin + static_cast<size_t>(max_batch));
    const int batch = static_cast<int>(end - begin);
    std::vector<float> samples;
    samples.reserve(static_cast<size_t>(batch) * info.chunk_samples);
    std::vector<Tensor> states(info.states.size());
    // The chunks stay buffered until the step has succeeded and been checked, so a failure loses
    // no audio and a retry decodes the same chunks from the same state.
    for (size_t i = begin; i < end; ++i) {
      auto chunk = ready[i]->chunker_.PeekChunk();
      samples.insert(samples.end(), chunk.begin(), chunk.end());
    }
    for (size_t k = 0; k < info.states.size(); ++k) {
      std::vector<const Tensor *> items;
      for (size_t i = begin; i < end; ++i) items.push_back(&ready[i]->states_[k]);
      states[k] = Stack(items);
    }
    const int64_t step_ns = NowNs();
    StepResult result = backend_->Step(batch, samples, states);
    model_ns_ += NowNs() - step_ns;
    CheckStep<std::runtime_error>(result, batch);
    chunks_ += batch;
    std::vector<std::vector<Tensor>> per_state;
    for (auto &t : result.states) per_state.push_back(Unstack(t));
    auto ctc = Unstack(result.outputs[ctc_index_]);
    auto tags = Unstack(result.outputs[tag_index_]);
    auto emb = Unstack(result.outputs[speaker_index_]);
    for (int b = 0; b < batch; ++b) {
      std::vector<Tensor> new_states;
      for (auto &ps : per_state) new_states.push_back(std::move(ps[b]));
      ready[begin + b]->chunker_.DropChunk();
      ready[begin + b]->Consume(ctc[b].data, tags[b].data, emb[b].data, std::move(new_states));
    }
  }
  total_ns_ += NowNs() - start_ns;
}

// ---------------------------------------------------------------- Stream

namespace {
ChunkerConfig ChunkerFor(const ModelInfo &info) {
  ChunkerConfig c;
  c.sample_rate = info.sample_rate;
  c.chunk_samples = info.chunk_samples;
  return c;
}
}  // namespace

Stream::Stream(const Engine *engine, std::shared_ptr<const ContextGraph> hotwords)
    : engine_(engine),
      chunker_(ChunkerFor(engine->Info())),
      decoder_(engine->Config().decoding, engine->Info().tokens, 0, engine->lm_, std::move(hotwords)),
      tagger_(engine->Config().tagging, static_cast<int>(engine->Info().labels.size()), engine->Info().frame_shift_ms),
      endpointer_(engine->Config().endpoint, engine->Info().frame_shift_ms, engine->speech_label_),
      event_maker_(engine->Info().labels) {
  for (const auto &s : engine->Info().states) {
    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), s.shape.begin(), s.shape.end());
    states_.emplace_back(shape);
  }
}

Stream::~Stream() = default;

void Stream::FeedChunker(const std::vector<float> &samples) {
  // The input was validated before resampling; the sinc filter can still overshoot a loud square
  // wave past max_abs_sample, and the chunker refusing it then would drop audio the resampler has
  // already consumed. Clipping there is what the loud input meant anyway.
  const float limit = chunker_.Config().max_abs_sample;
  std::vector<float> clipped(samples);
  for (float &x : clipped) x = std::clamp(x, -limit, limit);
  chunker_.AcceptFloat(engine_->Info().sample_rate, clipped.data(), clipped.size());
}

void Stream::AcceptWaveform(int sample_rate, const float *samples, size_t n) {
  // Checked here rather than by the chunker, whose hint (reset()) would mislead: Stream::Reset
  // starts the next segment of the same input and cannot reopen it.
  if (chunker_.IsFinished())
    throw std::invalid_argument("audio after input_finished(): this stream's input has ended; "
                                "create a new stream for more audio");
  if (sample_rate < kMinSampleRate || sample_rate > kMaxSampleRate)
    throw std::invalid_argument("sample rate " + std::to_string(sample_rate) + " Hz is outside the supported " +
                                std::to_string(kMinSampleRate) + "-" + std::to_string(kMaxSampleRate) + " Hz");
  const int model_rate = engine_->Info().sample_rate;
  if (sample_rate == model_rate && !resampler_) {
    chunker_.AcceptFloat(sample_rate, samples, n);  // its sample count is ours: errors name stream positions
    input_samples_ += static_cast<int64_t>(n);
    return;
  }
  if (!engine_->Config().resample)
    throw std::invalid_argument("sample rate " + std::to_string(sample_rate) + " Hz does not match the model's " +
                                std::to_string(model_rate) + " Hz and resampling is off");
  if (resampler_ && resampler_->InRate() != sample_rate)
    throw std::invalid_argument("the sample rate changed from " + std::to_string(resampler_->InRate()) + " to " +
                                std::to_string(sample_rate) + " Hz within one stream");
  if (!resampler_ && chunker_.NumSamplesAccepted() > 0)
    throw std::invalid_argument("the sample rate changed within one stream");
  // Validate before resampling, so bad input leaves the stream (and the resampler's history) untouched.
  Chunker::CheckSamples(samples, n, chunker_.Config().max_abs_sample, input_samples_, sample_rate);
  if (!resampler_) resampler_ = std::make_unique<Resampler>(sample_rate, model_rate);
  std::vector<float> out;
  resampler_->Accept(samples, n, &out);
  FeedChunker(out);
  input_samples_ += static_cast<int64_t>(n);
}

void Stream::AcceptInt16(int sample_rate, const int16_t *samples, size_t n) {
  std::vector<float> f(n);
  for (size_t i = 0; i < n; ++i) f[i] = samples[i] / 32768.0f;
  AcceptWaveform(sample_rate, f.data(), n);
}

void Stream::InputFinished() {
  if (resampler_ && !chunker_.IsFinished()) {
    std::vector<float> out;
    resampler_->Flush(&out);
    FeedChunker(out);
  }
  // Audio that ended exactly on a chunk boundary was decoded before the stream knew it had ended: one
  // more (all-padding) chunk carries the end of input, so the last segment still gets its final event.
  chunker_.InputFinished(/*always_one_more=*/chunks_decoded_ > 0 && !chunker_.IsFinished());
}

bool Stream::IsReady() const { return chunker_.IsReady(); }
bool Stream::IsFinished() const { return chunker_.IsFinished() && !chunker_.IsReady(); }
bool Stream::IsEndpoint() const { return endpointer_.IsEndpoint() || IsFinished(); }

void Stream::Consume(const std::vector<float> &log_probs, const std::vector<float> &tag_probs,
                     const std::vector<float> &embedding, std::vector<Tensor> states) {
  const ModelInfo &info = engine_->Info();
  const int frames = info.frames_per_chunk;
  const int vocab = static_cast<int>(info.tokens.size());
  const int classes = static_cast<int>(info.labels.size());
  states_ = std::move(states);
  embedding_ = embedding;
  // Frames past the real audio (the zero-padded tail of the last chunk) are not decoded.
  const int64_t real_samples = chunker_.NumSamplesAccepted();
  const int64_t samples_per_frame = info.chunk_samples / frames;
  const int64_t real_total = (real_samples + samples_per_frame - 1) / samples_per_frame;
  const int usable = static_cast<int>(std::clamp<int64_t>(real_total - frames_, 0, frames));
  const int64_t decode_ns = NowNs();
  decoder_.Accept(log_probs.data(), usable, vocab, frames_);
  const bool has_text = !decoder_.Empty();
  engine_->decoder_ns_ += NowNs() - decode_ns;
  tagger_.Accept(tag_probs.data(), usable);
  endpointer_.AcceptFrames(log_probs.data(), vocab, tag_probs.data(), classes, usable);
  frames_ += usable;
  ++chunks_decoded_;
  if (IsFinished()) tagger_.Flush();
  endpointer_.Decide(has_text, frames_ - segment_start_frame_);
}

std::vector<StreamEvent> Stream::TakeEvents(const SpeakerNaming &speakers) {
  if (chunks_decoded_ == events_taken_at_chunk_) return {};  // nothing decoded since the last call
  if (chunks_decoded_ > events_taken_at_chunk_ + 1)
    throw std::logic_error("TakeEvents must be called after every decoded chunk: " +
                           std::to_string(chunks_decoded_ - events_taken_at_chunk_) +
                           " chunks were decoded since the last call, and an endpoint among them would be lost");
  events_taken_at_chunk_ = chunks_decoded_;
  ChunkOutcome chunk;
  chunk.tags_started = tagger_.TakeStartedEvents();
  chunk.tags_finished = tagger_.TakeFinishedEvents();
  chunk.result = GetResult();
  chunk.segment_ms = (frames_ - segment_start_frame_) * engine_->Info().frame_shift_ms;
  chunk.endpoint = IsEndpoint();
  chunk.embedding = embedding_;
  auto events = event_maker_.AfterChunk(chunk, speakers);
  if (chunk.endpoint && !IsFinished()) Reset();
  return events;
}

AsrResult Stream::GetResult() const {
  const ModelInfo &info = engine_->Info();
  AsrResult r;
  const double shift_s = info.frame_shift_ms / 1000.0;
  r.is_final = IsEndpoint();
  static const std::string kWordStart = "\xe2\x96\x81";
  for (const auto &tok : r.is_final ? decoder_.Final() : decoder_.Best()) {
    const std::string &piece = info.tokens.at(tok.id);
    r.token_ids.push_back(tok.id);
    r.tokens.push_back(piece);
    r.token_times_s.push_back(tok.frame * shift_s);
    const bool starts = piece.compare(0, kWordStart.size(), kWordStart) == 0;
    const std::string letters = starts ? piece.substr(kWordStart.size()) : piece;
    if (starts || r.words.empty()) {
      if (!r.words.empty() && r.words.back().word.empty()) r.words.pop_back();  // a bare word-start piece
      r.words.push_back({"", tok.frame * shift_s, 0});
    }
    r.words.back().word += letters;
    r.words.back().end_s = std::min<double>(tok.end_frame + 1, frames_) * shift_s;
  }
  if (!r.words.empty() && r.words.back().word.empty()) r.words.pop_back();
  r.text = Detokenize(r.tokens);
  r.start_s = segment_start_frame_ * shift_s;
  r.end_s = frames_ * shift_s;
  r.segment = segment_;
  return r;
}

void Stream::Reset() {
  decoder_.Reset();
  segment_start_frame_ = frames_;
  endpointer_.Reset();
  ++segment_;
  const auto &specs = engine_->Info().states;
  for (size_t k = 0; k < specs.size(); ++k)
    if (specs[k].reset_at_segment) std::fill(states_[k].data.begin(), states_[k].data.end(), 0.0f);
  embedding_.clear();
}

std::vector<TagScore> Stream::TopTags() const { return tagger_.TopK(); }
std::vector<TagEvent> Stream::ActiveTagEvents() const { return tagger_.ActiveEvents(); }
std::vector<TagEvent> Stream::TakeStartedTagEvents() { return tagger_.TakeStartedEvents(); }
std::vector<TagEvent> Stream::TakeFinishedTagEvents() { return tagger_.TakeFinishedEvents(); }
std::vector<float> Stream::SpeakerEmbedding() const { return embedding_; }
double Stream::ProcessedSeconds() const { return frames_ * engine_->Info().frame_shift_ms / 1000.0; }
double Stream::SpeechSeconds() const { return endpointer_.SpeechFrames() * engine_->Info().frame_shift_ms / 1000.0; }

}  // namespace mt2kd
