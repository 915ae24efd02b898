// Unit tests of the endpointer and of each stream event type (Stream::TakeEvents), on a scripted
// model: a fake backend whose outputs are read off its input, so a test writes its audio as a
// line of frame codes and knows exactly what every frame "says".
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "mt2kd/backend.h"
#include "mt2kd/endpointer.h"
#include "mt2kd/engine.h"
#include "mt2kd/speaker_store.h"

namespace {

using mt2kd::StreamEvent;
using mt2kd::StreamEventType;

// 2 frames of 40 ms per 80 ms chunk; tokens: blank, "▁hi", "▁there"; classes: Speech, Dog.
constexpr int kFrames = 2, kFrameSamples = 640, kVocab = 3, kClasses = 2, kEmbeddingDim = 4;
const char *kModel = R"({"format": "mt2kd-edge-model", "format_version": 1,
  "tokens": ["<blk>", "\u2581hi", "\u2581there"],
  "labels": [{"mid": "/m/0", "name": "Speech"}, {"mid": "/m/1", "name": "Dog"}],
  "streaming_spec": {"sample_rate": 16000, "chunk_samples": 1280, "frames_per_chunk": 2, "frame_shift_ms": 40,
    "input": {"name": "samples", "shape": [1280]},
    "outputs": [{"name": "ctc_log_probs", "shape": [2, 3]}, {"name": "tag_probs", "shape": [2, 2]},
                {"name": "speaker_embedding", "shape": [4]}],
    "states": [{"name": "s", "shape": [1]}]}})";

// What a frame says, from the first sample of its 640 (value = code / 10):
// 0 silence | 1 "▁hi" | 2 "▁there" | 3 speech without words | 4 a dog, no speech.
class ScriptedBackend : public mt2kd::Backend {
 public:
  ScriptedBackend() : info_(mt2kd::ModelInfo::FromJson(kModel, "scripted.json")) {}
  const mt2kd::ModelInfo &Info() const override { return info_; }
  std::string Name() const override { return "scripted"; }
  mt2kd::StepResult Step(int batch, const std::vector<float> &samples, const std::vector<mt2kd::Tensor> &states) override {
    mt2kd::StepResult r;
    r.outputs = {mt2kd::Tensor({batch, kFrames, kVocab}), mt2kd::Tensor({batch, kFrames, kClasses}),
                 mt2kd::Tensor({batch, kEmbeddingDim})};
    r.states = states;
    for (int b = 0; b < batch; ++b) {
      for (int f = 0; f < kFrames; ++f) {
        const int code = static_cast<int>(std::lround(samples[(b * kFrames + f) * kFrameSamples] * 10));
        const int best = code == 1 || code == 2 ? code : 0;
        for (int v = 0; v < kVocab; ++v)
          r.outputs[0].data[(b * kFrames + f) * kVocab + v] = std::log(v == best ? 0.9f : 0.05f);
        r.outputs[1].data[(b * kFrames + f) * kClasses + 0] = code >= 1 && code <= 3 ? 0.9f : 0.0f;
        r.outputs[1].data[(b * kFrames + f) * kClasses + 1] = code == 4 ? 0.9f : 0.0f;
      }
      r.outputs[2].data[b * kEmbeddingDim] = 1.0f;  // every segment sounds like "ann"
    }
    return r;
  }

 private:
  mt2kd::ModelInfo info_;
};

mt2kd::EngineConfig Config() {
  mt2kd::EngineConfig c;
  c.endpoint.trailing_silence_ms = 160;   // 4 silent frames end an utterance
  c.endpoint.no_speech_timeout_ms = 600;  // 15 end a segment without text or speech
  c.endpoint.min_speech_ms = 80;          // 2 frames of speech make an utterance
  c.tagging.window_ms = 80;               // one tagging window per chunk
  c.tagging.hop_ms = 80;
  return c;
}

// The audio for a line of frame codes ("1 1 0 0").
std::vector<float> Audio(const std::string &codes) {
  std::vector<float> audio;
  for (char c : codes)
    if (c != ' ') audio.insert(audio.end(), kFrameSamples, (c - '0') / 10.0f);
  return audio;
}

// The events of `codes`, chunk by chunk (one entry per decoded chunk), read as an app would.
std::vector<std::vector<StreamEvent>> Run(const std::string &codes, const mt2kd::SpeakerNaming &naming = {},
                                          mt2kd::EngineConfig config = Config()) {
  mt2kd::Engine engine(std::make_shared<ScriptedBackend>(), config);
  auto stream = engine.CreateStream();
  const auto audio = Audio(codes);
  stream->AcceptWaveform(16000, audio.data(), audio.size());
  stream->InputFinished();
  std::vector<std::vector<StreamEvent>> chunks;
  while (stream->IsReady()) {
    engine.DecodeStreams({stream.get()});
    chunks.push_back(stream->TakeEvents(naming));
  }
  return chunks;
}

std::vector<StreamEvent> OfType(const std::vector<std::vector<StreamEvent>> &chunks, StreamEventType type) {
  std::vector<StreamEvent> out;
  for (const auto &chunk : chunks)
    for (const auto &ev : chunk)
      if (ev.type == type) out.push_back(ev);
  return out;
}

std::string Repeat(const std::string &s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

bool Near(double a, double b) { return std::fabs(a - b) < 1e-9; }

template <typename F>
std::string ErrorOf(F f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

int TestEndpointerConfig() {
  mt2kd::EndpointConfig c;
  c.trailing_silence_ms = 0;
  CHECK(ErrorOf([&] { c.Validate(); }) == "trailing_silence_ms must be more than 0 ms, got 0");
  c = {};
  c.min_speech_ms = -1;
  CHECK(ErrorOf([&] { c.Validate(); }) == "min_speech_ms must be 0 ms or more, got -1");
  c = {};
  c.speech_threshold = std::nanf("");
  CHECK(ErrorOf([&] { c.Validate(); }).find("speech_threshold must be 0-1") == 0);
  c = {};
  c.max_utterance_ms = -5;
  CHECK(Throws([&] { mt2kd::Endpointer e(c, 40, 0); }));  // the endpointer validates its config
  return 0;
}

int TestEndpointerRule() {
  mt2kd::EndpointConfig c = Config().endpoint;
  // frames: [blank?, P(Speech)] as a model would give them (vocab 2: blank, one token)
  auto frames = [](mt2kd::Endpointer &e, int n, bool blank, float speech) {
    for (int i = 0; i < n; ++i) {
      const float lp[2] = {blank ? 0.0f : -5.0f, blank ? -5.0f : 0.0f};
      const float tp[1] = {speech};
      e.AcceptFrames(lp, 2, tp, 1, 1);
    }
  };
  mt2kd::Endpointer text(c, 40, 0);
  frames(text, 3, true, 0.0f);
  CHECK(!text.Decide(true, 3));  // 120 ms of silence: not yet
  frames(text, 1, true, 0.0f);
  CHECK(text.Decide(true, 4) && text.IsEndpoint());  // 160 ms ends an utterance with text
  text.Reset();
  CHECK(!text.IsEndpoint() && text.SpeechFrames() == 0);
  frames(text, 4, true, 0.9f);  // blank while the tagger hears speech: with words, blank alone ends it
  CHECK(text.Decide(true, 4) && text.SpeechFrames() == 4);
  text.Reset();
  frames(text, 4, true, 0.9f);  // ... but without words the tagger's speech keeps the segment open
  CHECK(!text.Decide(false, 4));
  c.tagger_vote_with_text = true;  // the old rule: the tagger's vote counts with words too
  mt2kd::Endpointer voting(c, 40, 0);
  frames(voting, 4, true, 0.9f);
  CHECK(!voting.Decide(true, 4));
  frames(voting, 4, true, 0.0f);
  CHECK(voting.Decide(true, 8));
  c.tagger_vote_with_text = false;
  mt2kd::Endpointer quiet(c, 40, 0);
  frames(quiet, 14, true, 0.0f);
  CHECK(!quiet.Decide(false, 14));  // no text, no speech: waits for the no-speech timeout (600 ms)
  frames(quiet, 1, true, 0.0f);
  CHECK(quiet.Decide(false, 15));
  mt2kd::Endpointer heard(c, 40, 0);
  frames(heard, 2, true, 0.9f);  // 80 ms of speech: an utterance without words
  frames(heard, 4, true, 0.0f);
  CHECK(heard.Decide(false, 6));
  mt2kd::Endpointer no_speech_class(c, 40, -1);  // no Speech class: blank alone is silence
  frames(no_speech_class, 4, true, 0.9f);
  CHECK(no_speech_class.Decide(true, 4) && no_speech_class.SpeechFrames() == 0);
  c.max_utterance_ms = 200;
  mt2kd::Endpointer longest(c, 40, 0);
  frames(longest, 5, false, 0.9f);
  CHECK(longest.Decide(true, 5));  // 200 ms of talking: cut
  c.enabled = false;
  mt2kd::Endpointer off(c, 40, 0);
  frames(off, 50, true, 0.0f);
  CHECK(!off.Decide(true, 50));
  return 0;
}

int TestPartialEvents() {
  const auto chunks = Run("1 1  0 0  2 0  0 3  0 0  0 0");
  const auto partials = OfType(chunks, StreamEventType::kPartial);
  CHECK(partials.size() == 2);  // once per change of text, not once per chunk
  CHECK(partials[0].text == "hi" && Near(partials[0].start_s, 0) && Near(partials[0].end_s, 0.08));
  CHECK(partials[1].text == "hi there" && Near(partials[1].end_s, 0.24) && partials[1].segment == 0);
  CHECK(OfType({chunks[0]}, StreamEventType::kPartial).size() == 1 && OfType({chunks[1]}, StreamEventType::kPartial).empty());
  return 0;
}

int TestFinalEvent() {
  const auto chunks = Run("1 1  0 2  0 0  0 0  1 0  0 0  0 0");
  const auto finals = OfType(chunks, StreamEventType::kFinal);
  CHECK(finals.size() == 2);
  CHECK(finals[0].text == "hi there" && Near(finals[0].start_s, 0) && Near(finals[0].end_s, 0.32));
  CHECK(finals[0].words.size() == 2 && finals[0].words[0].word == "hi" && Near(finals[0].words[0].start_s, 0) &&
        Near(finals[0].words[0].end_s, 0.08) && finals[0].words[1].word == "there" &&
        Near(finals[0].words[1].start_s, 0.12));
  CHECK(finals[0].speaker.empty() && finals[0].speaker_score == -1.0f);  // no speakers enrolled
  // the stream reset itself at the endpoint: the next segment starts where that one ended
  CHECK(finals[1].text == "hi" && finals[1].segment == 1 && Near(finals[1].start_s, 0.32) && Near(finals[1].end_s, 0.56));
  CHECK(chunks[3].back().type == StreamEventType::kFinal);  // at the chunk that ended the segment
  CHECK(OfType(chunks, StreamEventType::kSpeaker).empty());  // no store: nobody to name
  return 0;
}

int TestSpeakerEvents() {
  mt2kd::SpeakerStore store(kEmbeddingDim);
  store.Enroll("ann", {1, 0, 0, 0});
  store.Enroll("bob", {0, 1, 0, 0});
  auto chunks = Run("1 1  0 0  0 0", {&store, 0.5f});
  CHECK(chunks.back().size() == 2 && chunks.back()[0].type == StreamEventType::kSpeaker &&
        chunks.back()[1].type == StreamEventType::kFinal);  // the speaker, then the final that names them
  const StreamEvent &who = chunks.back()[0];
  CHECK(who.speaker == "ann" && std::fabs(who.speaker_score - 1.0f) < 1e-5f && Near(who.end_s, 0.24));
  CHECK(chunks.back()[1].speaker == "ann");
  // nobody at the threshold: a speaker event without a name, and a final without a speaker
  mt2kd::SpeakerStore others(kEmbeddingDim);
  others.Enroll("bob", {0, 1, 0, 0});
  chunks = Run("1 1  0 0  0 0", {&others, 0.5f});
  const auto unknown = OfType(chunks, StreamEventType::kSpeaker);
  CHECK(unknown.size() == 1 && unknown[0].speaker.empty() && std::fabs(unknown[0].speaker_score) < 1e-5f);
  CHECK(OfType(chunks, StreamEventType::kFinal)[0].speaker.empty());
  // a turn the tagger heard but the recogniser has no words for: a speaker event, no final
  chunks = Run(Repeat("3 3 ", 7) + "0 0 0 0", {&store, 0.5f});
  CHECK(OfType(chunks, StreamEventType::kSpeaker).size() == 1 && OfType(chunks, StreamEventType::kFinal).empty());
  return 0;
}

int TestMinimumSpeakerSegment() {
  mt2kd::SpeakerStore store(kEmbeddingDim);
  store.Enroll("ann", {1, 0, 0, 0});
  // the first utterance ends after 240 ms; then 480 ms without words remain: too little to name anyone ...
  auto chunks = Run("1 1" + Repeat(" 0 0", 8), {&store, 0.5f});
  CHECK(OfType(chunks, StreamEventType::kSpeaker).size() == 1);
  // ... and 560 ms are enough
  chunks = Run("1 1" + Repeat(" 0 0", 9), {&store, 0.5f});
  const auto speakers = OfType(chunks, StreamEventType::kSpeaker);
  CHECK(speakers.size() == 2 && Near(speakers[1].end_s - speakers[1].start_s, 0.56));
  return 0;
}

// A dog barks in frames 2-5 and again in the last two frames (the input ends while it barks).
const char *kBarks = "0 0  4 4  4 4  0 0  0 0  4 4";

int TestTagStartEvents() {
  const auto chunks = Run(kBarks);
  const auto starts = OfType(chunks, StreamEventType::kTagStart);
  CHECK(starts.size() == 2);
  CHECK(starts[0].tag_label == "Dog" && starts[0].tag_index == 1 && Near(starts[0].start_s, 0.08) &&
        starts[0].end_s < 0 && std::fabs(starts[0].tag_score - 0.9f) < 1e-6f);
  CHECK(chunks[1].size() == 1 && chunks[1][0].type == StreamEventType::kTagStart);  // as soon as it opens
  CHECK(Near(starts[1].start_s, 0.40));
  return 0;
}

int TestTagEndEvents() {
  const auto chunks = Run(kBarks);
  const auto ends = OfType(chunks, StreamEventType::kTagEnd);
  CHECK(ends.size() == 2);
  CHECK(ends[0].tag_label == "Dog" && Near(ends[0].start_s, 0.08) && Near(ends[0].end_s, 0.32) &&
        std::fabs(ends[0].tag_score - 0.9f) < 1e-6f);  // its peak
  CHECK(chunks[3].size() == 1 && chunks[3][0].type == StreamEventType::kTagEnd);  // closed by the first quiet window
  // the last one is still open when the input ends: closed there, after its start, in the last chunk
  CHECK(chunks.back().size() == 2 && chunks.back()[0].type == StreamEventType::kTagStart &&
        chunks.back()[1].type == StreamEventType::kTagEnd && Near(ends[1].start_s, 0.40) && Near(ends[1].end_s, 0.48));
  return 0;
}

int TestTakeEventsOncePerChunk() {
  mt2kd::Engine engine(std::make_shared<ScriptedBackend>(), Config());
  auto stream = engine.CreateStream();
  CHECK(stream->TakeEvents().empty());  // nothing decoded yet
  const auto audio = Audio("1 1  0 0  0 0");
  stream->AcceptWaveform(16000, audio.data(), audio.size());
  engine.DecodeStreams({stream.get()});
  engine.DecodeStreams({stream.get()});
  const std::string error = ErrorOf([&] { stream->TakeEvents(); });
  CHECK(error.find("TakeEvents must be called after every decoded chunk: 2 chunks") == 0);
  return 0;
}

}  // namespace

int main() {
  if (TestEndpointerConfig() || TestEndpointerRule() || TestPartialEvents() || TestFinalEvent() || TestSpeakerEvents() ||
      TestMinimumSpeakerSegment() || TestTagStartEvents() || TestTagEndEvents() || TestTakeEventsOncePerChunk())
    return 1;
  std::puts("test_stream_events: all checks passed");
  return 0;
}
