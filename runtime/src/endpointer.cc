#include "mt2kd/endpointer.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mt2kd {

void EndpointConfig::Validate() const {
  const auto positive = [](const char *name, int ms) {
    if (ms <= 0) throw std::invalid_argument(std::string(name) + " must be more than 0 ms, got " + std::to_string(ms));
  };
  positive("trailing_silence_ms", trailing_silence_ms);
  positive("no_speech_timeout_ms", no_speech_timeout_ms);
  positive("max_utterance_ms", max_utterance_ms);
  if (min_speech_ms < 0) throw std::invalid_argument("min_speech_ms must be 0 ms or more, got " + std::to_string(min_speech_ms));
  // A NaN threshold would make every frame "speech" by failing the `<` test: no endpoint ever.
  if (!(speech_threshold >= 0.0f && speech_threshold <= 1.0f))
    throw std::invalid_argument("speech_threshold must be 0-1 (a probability), got " + std::to_string(speech_threshold));
}

Endpointer::Endpointer(const EndpointConfig &config, int frame_shift_ms, int speech_label)
    : config_(config), frame_shift_ms_(frame_shift_ms), speech_label_(speech_label) {
  config_.Validate();
}

void Endpointer::AcceptFrames(const float *log_probs, int vocab, const float *tag_probs, int classes, int frames) {
  for (int t = 0; t < frames; ++t) {
    const float *row = log_probs + static_cast<size_t>(t) * vocab;
    const bool blank = std::max_element(row, row + vocab) == row;
    const bool quiet =
        speech_label_ < 0 || tag_probs[static_cast<size_t>(t) * classes + speech_label_] < config_.speech_threshold;
    trailing_blank_frames_ = blank ? trailing_blank_frames_ + 1 : 0;
    trailing_quiet_frames_ = (blank && quiet) ? trailing_quiet_frames_ + 1 : 0;
    if (speech_label_ >= 0 && !quiet) ++speech_frames_;
  }
}

bool Endpointer::Decide(bool has_text, int64_t segment_frames) {
  if (!config_.enabled) return endpoint_;  // stays false: only Reset() touches it then
  const bool utterance = has_text || speech_frames_ * frame_shift_ms_ >= config_.min_speech_ms;
  const bool blank_alone = has_text && !config_.tagger_vote_with_text;
  const int64_t silence_ms = (blank_alone ? trailing_blank_frames_ : trailing_quiet_frames_) * frame_shift_ms_;
  endpoint_ = (utterance && silence_ms >= config_.trailing_silence_ms) ||
              (!utterance && silence_ms >= config_.no_speech_timeout_ms) ||
              segment_frames * frame_shift_ms_ >= config_.max_utterance_ms;
  return endpoint_;
}

void Endpointer::Reset() {
  trailing_blank_frames_ = trailing_quiet_frames_ = 0;
  speech_frames_ = 0;
  endpoint_ = false;
}

}  // namespace mt2kd
