// The typed events of a stream (Stream::TakeEvents), times in seconds from the stream start.
#pragma once

#include <string>
#include <vector>

#include "mt2kd/asr_result.h"

namespace mt2kd {

enum class StreamEventType {
  kPartial,   // the segment's best text changed (not at its end)
  kFinal,     // a segment with words ended: its text, words and speaker
  kTagStart,  // a sound-event tag opened (end_s < 0: still open)
  kTagEnd,    // a tag closed: start to end, with its peak score
  kSpeaker,   // who spoke a segment that ended (only with enrolled speakers)
};

// "partial", "final", "tag_start", "tag_end", "speaker".
const char *StreamEventTypeName(StreamEventType type);

struct StreamEvent {
  StreamEventType type = StreamEventType::kPartial;
  double start_s = 0, end_s = 0;  // the segment (partial, final, speaker) or the tag (end_s < 0 while open)
  int segment = 0;                // index of the segment within the stream (partial, final, speaker)
  std::string text;               // partial, final
  std::vector<WordResult> words;  // final: the words of `text`, with times
  std::string speaker;            // final, speaker: the identified speaker; "" if nobody scored at the threshold
  float speaker_score = -1.0f;    // final, speaker: cosine with the best enrolled speaker (-1: none enrolled)
  int tag_index = -1;             // tags: the class
  std::string tag_label;          // tags: the class's name
  float tag_score = 0.0f;         // tag start: the window score that opened it; tag end: the peak window score
};

}  // namespace mt2kd
