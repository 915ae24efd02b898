// The rules that turn what one decoded chunk left in a stream into its events. This is the one
// place they live: the Python API, the WebSocket server and the example app all get their events
// from here (through Stream::TakeEvents).
//
// In one chunk's events: tag starts, then tag ends, then a partial, then (at an endpoint) the
// segment's speaker, then its final.
// - partial: the best text of the segment, when it changed and the segment did not end here;
// - speaker: at an endpoint, when speakers are enrolled, unless the segment is too short to name
//   anyone (no words and under kMinSpeakerSegmentMs, e.g. the remnant after the last endpoint);
// - final: at an endpoint, when the segment has words, with the speaker ("" if nobody matched).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mt2kd/asr_result.h"
#include "mt2kd/model_info.h"
#include "mt2kd/speaker_store.h"
#include "mt2kd/stream_event.h"
#include "mt2kd/tag_aggregator.h"

namespace mt2kd {

inline constexpr int kMinSpeakerSegmentMs = 500;  // a segment without words must be this long to get a speaker event
inline constexpr float kDefaultSpeakerThreshold = 0.5f;  // cosine; tune it on your own trials

// Who is asked to name the speaker of each segment: none (nullptr) or an enrolled store.
struct SpeakerNaming {
  const SpeakerStore *store = nullptr;  // not owned; must outlive the call that takes it
  float threshold = kDefaultSpeakerThreshold;
};

// What one decoded chunk left in the stream.
struct ChunkOutcome {
  std::vector<TagEvent> tags_started, tags_finished;
  AsrResult result;               // the segment after the chunk (is_final at an endpoint)
  int64_t segment_ms = 0;         // the segment's length so far
  bool endpoint = false;          // the segment ends with this chunk
  std::vector<float> embedding;   // the segment's speaker embedding so far
};

class EventMaker {
 public:
  explicit EventMaker(std::vector<LabelInfo> labels) : labels_(std::move(labels)) {}
  // The events of one chunk, in the order above. Throws std::invalid_argument if the store cannot
  // score the embedding (a dimension that is not the store's).
  std::vector<StreamEvent> AfterChunk(const ChunkOutcome &chunk, const SpeakerNaming &naming);

 private:
  StreamEvent Tag(StreamEventType type, const TagEvent &tag) const;

  std::vector<LabelInfo> labels_;
  std::string last_partial_;  // the segment's text as last reported
};

}  // namespace mt2kd
