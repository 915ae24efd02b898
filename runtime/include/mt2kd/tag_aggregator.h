// Rolling audio tagging: per-frame probabilities -> sliding-window scores -> top-k and events.
//
// Every `hop_ms` the mean of the last `window_ms` of frame probabilities becomes the current
// window score. An event opens when a class's window score reaches `on_threshold` and closes
// when it falls below `off_threshold` (hysteresis: a sound gives one event, not a flicker).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace mt2kd {

struct TaggingConfig {
  int window_ms = 960;
  int hop_ms = 320;
  int top_k = 3;
  float on_threshold = 0.5f;
  float off_threshold = 0.35f;
  int min_event_ms = 0;  // shorter events are dropped when they close
  void Validate(int frame_shift_ms) const;
};

struct TagScore {
  int index;
  float score;
};

struct TagEvent {
  int index;
  double start_s;
  double end_s;  // < 0 while the event is still active
  float peak;    // highest window score during the event
};

class TagAggregator {
 public:
  TagAggregator(const TaggingConfig &config, int num_classes, int frame_shift_ms);
  // probs: num_frames x num_classes, row-major.
  void Accept(const float *probs, int num_frames);
  // Closes active events at the end of the audio.
  void Flush();
  std::vector<TagScore> TopK() const;           // of the latest window
  const std::vector<float> &WindowScores() const { return window_scores_; }
  std::vector<TagEvent> ActiveEvents() const;
  std::vector<TagEvent> TakeFinishedEvents();   // closed since the last call
  std::vector<TagEvent> TakeStartedEvents();    // opened since the last call
  void Reset();

 private:
  void EmitWindow();
  void Close(int c, double end_s);
  double FrameTime(int64_t frame) const { return frame * frame_shift_ms_ / 1000.0; }

  TaggingConfig config_;
  int num_classes_, frame_shift_ms_, window_frames_, hop_frames_;
  std::deque<std::vector<float>> recent_;  // last window_frames_ frames
  std::vector<double> window_sum_;
  std::vector<float> window_scores_;
  int64_t frames_seen_ = 0;
  int since_hop_ = 0;
  std::vector<bool> is_open_;     // per class: an event is open
  std::vector<TagEvent> open_;    // per class: the open event (valid where is_open_)
  std::vector<TagEvent> finished_, started_;
};

}  // namespace mt2kd
