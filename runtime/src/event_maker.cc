#include "mt2kd/event_maker.h"

namespace mt2kd {

const char *StreamEventTypeName(StreamEventType type) {
  switch (type) {
    case StreamEventType::kPartial: return "partial";
    case StreamEventType::kFinal: return "final";
    case StreamEventType::kTagStart: return "tag_start";
    case StreamEventType::kTagEnd: return "tag_end";
    case StreamEventType::kSpeaker: return "speaker";
  }
  return "?";
}

StreamEvent EventMaker::Tag(StreamEventType type, const TagEvent &tag) const {
  StreamEvent ev;
  ev.type = type;
  ev.start_s = tag.start_s;
  ev.end_s = tag.end_s;
  ev.tag_index = tag.index;
  ev.tag_label = labels_.at(tag.index).name;
  ev.tag_score = tag.peak;
  return ev;
}

std::vector<StreamEvent> EventMaker::AfterChunk(const ChunkOutcome &chunk, const SpeakerNaming &naming) {
  std::vector<StreamEvent> out;
  // With the default hop (one tagging window per chunk) a class cannot close and reopen within a
  // chunk, but one can open and close in the last window at the end of the input: starts first.
  for (const auto &tag : chunk.tags_started) out.push_back(Tag(StreamEventType::kTagStart, tag));
  for (const auto &tag : chunk.tags_finished) out.push_back(Tag(StreamEventType::kTagEnd, tag));
  const AsrResult &r = chunk.result;
  auto segment_event = [&](StreamEventType type) {
    StreamEvent ev;
    ev.type = type;
    ev.start_s = r.start_s;
    ev.end_s = r.end_s;
    ev.segment = r.segment;
    return ev;
  };
  if (!chunk.endpoint) {
    if (r.text != last_partial_) {
      last_partial_ = r.text;
      StreamEvent ev = segment_event(StreamEventType::kPartial);
      ev.text = r.text;
      out.push_back(std::move(ev));
    }
    return out;
  }
  last_partial_.clear();  // the next segment starts with nothing reported
  if (r.text.empty() && chunk.segment_ms < kMinSpeakerSegmentMs) return out;
  const bool enrolled = naming.store && naming.store->NumSpeakers() > 0;
  SpeakerMatch match{"", -1.0f};
  if (enrolled && !chunk.embedding.empty()) match = naming.store->Identify(chunk.embedding, naming.threshold);
  if (enrolled) {
    StreamEvent ev = segment_event(StreamEventType::kSpeaker);
    ev.speaker = match.name;
    ev.speaker_score = match.score;
    out.push_back(std::move(ev));
  }
  if (!r.text.empty()) {
    StreamEvent ev = segment_event(StreamEventType::kFinal);
    ev.text = r.text;
    ev.words = r.words;
    ev.speaker = match.name;
    ev.speaker_score = match.score;
    out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace mt2kd
