// Endpointing: where one utterance (segment) of a stream ends.
//
// A frame is blank when CTC's best token is blank, and quiet when also the tagger's P(Speech) is below
// speech_threshold (a model without a "Speech" class: blank alone). A segment ends after a run of
// silent frames: trailing_silence_ms once it is an utterance, no_speech_timeout_ms while it is not,
// or at the first chunk boundary past max_utterance_ms. It is an utterance once the decoder has
// words or the tagger heard min_speech_ms of speech, so a turn ends (and gets its own speaker)
// even when the recogniser has no words for it yet. Silent means quiet while the segment has no words;
// once it has words, blank runs alone (unless tagger_vote_with_text). Why: on 40 dev conversations with
// sound events in the gaps (python -m train.evaluation.endpointing, session-7 model) the tagger heard
// speech in most gaps, and the old rule (quiet always) found 5 of 80 turn changes at 800 ms; this one 71.
#pragma once

#include <cstdint>

namespace mt2kd {

struct EndpointConfig {
  bool enabled = true;
  int trailing_silence_ms = 800;     // silence that ends an utterance once it has text
  int no_speech_timeout_ms = 5000;   // silence that ends a segment with no text and no speech yet
  int min_speech_ms = 200;           // this much P(Speech) >= threshold makes a segment an utterance, text or not
  int max_utterance_ms = 20000;      // an utterance ends at the first chunk boundary past this
  float speech_threshold = 0.5f;     // a frame is quiet if CTC's best is blank and P(Speech) is below this
  bool tagger_vote_with_text = false;  // true: a segment with words also ends on quiet frames only
  void Validate() const;             // throws std::invalid_argument naming the option and its value
};

class Endpointer {
 public:
  // speech_label: the tagger's "Speech" class, or -1 if the model has none. Validates `config`.
  Endpointer(const EndpointConfig &config, int frame_shift_ms, int speech_label);

  // The real frames of one chunk, row-major: log_probs frames x vocab (blank = token 0),
  // tag_probs frames x classes.
  void AcceptFrames(const float *log_probs, int vocab, const float *tag_probs, int classes, int frames);
  // After a chunk's frames: decides whether the segment ends here. has_text: the decoder has words;
  // segment_frames: the segment's length so far. Returns IsEndpoint().
  bool Decide(bool has_text, int64_t segment_frames);
  bool IsEndpoint() const { return endpoint_; }
  int64_t SpeechFrames() const { return speech_frames_; }  // of this segment, P(Speech) >= threshold
  void Reset();  // the next segment starts

 private:
  EndpointConfig config_;
  int frame_shift_ms_, speech_label_;
  int64_t trailing_blank_frames_ = 0, trailing_quiet_frames_ = 0, speech_frames_ = 0;
  bool endpoint_ = false;
};

}  // namespace mt2kd
