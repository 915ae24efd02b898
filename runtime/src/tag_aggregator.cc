#include "mt2kd/tag_aggregator.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace mt2kd {

void TaggingConfig::Validate(int frame_shift_ms) const {
  if (window_ms < frame_shift_ms || hop_ms < frame_shift_ms)
    throw std::invalid_argument("window_ms and hop_ms must be at least one frame (" + std::to_string(frame_shift_ms) +
                                " ms)");
  if (top_k < 1) throw std::invalid_argument("top_k must be >= 1");
  if (!(off_threshold <= on_threshold)) throw std::invalid_argument("off_threshold must be <= on_threshold");
  if (min_event_ms < 0) throw std::invalid_argument("min_event_ms must be >= 0");
}

TagAggregator::TagAggregator(const TaggingConfig &config, int num_classes, int frame_shift_ms)
    : config_(config), num_classes_(num_classes), frame_shift_ms_(frame_shift_ms) {
  config.Validate(frame_shift_ms);
  window_frames_ = config.window_ms / frame_shift_ms;
  hop_frames_ = config.hop_ms / frame_shift_ms;
  Reset();
}

void TagAggregator::Reset() {
  recent_.clear();
  window_sum_.assign(num_classes_, 0.0);
  window_scores_.assign(num_classes_, 0.0f);
  frames_seen_ = 0;
  since_hop_ = 0;
  is_open_.assign(num_classes_, false);
  open_.assign(num_classes_, TagEvent{});
  finished_.clear();
  started_.clear();
}

void TagAggregator::Accept(const float *probs, int num_frames) {
  for (int t = 0; t < num_frames; ++t) {
    const float *row = probs + static_cast<size_t>(t) * num_classes_;
    recent_.emplace_back(row, row + num_classes_);
    for (int c = 0; c < num_classes_; ++c) window_sum_[c] += row[c];
    if (static_cast<int>(recent_.size()) > window_frames_) {
      for (int c = 0; c < num_classes_; ++c) window_sum_[c] -= recent_.front()[c];
      recent_.pop_front();
    }
    ++frames_seen_;
    if (++since_hop_ == hop_frames_) {
      since_hop_ = 0;
      EmitWindow();
    }
  }
}

void TagAggregator::EmitWindow() {
  const double n = static_cast<double>(recent_.size());
  const double window_start = FrameTime(frames_seen_ - static_cast<int64_t>(recent_.size()));
  const double window_end = FrameTime(frames_seen_);
  for (int c = 0; c < num_classes_; ++c) {
    const float score = static_cast<float>(window_sum_[c] / n);
    window_scores_[c] = score;
    if (!is_open_[c] && score >= config_.on_threshold) {
      open_[c] = {c, window_start, -1.0, score};
      is_open_[c] = true;
      started_.push_back(open_[c]);
    } else if (is_open_[c]) {
      if (score >= config_.off_threshold)
        open_[c].peak = std::max(open_[c].peak, score);
      else
        Close(c, window_end);
    }
  }
}

void TagAggregator::Close(int c, double end_s) {
  TagEvent ev = open_[c];
  ev.end_s = end_s;
  if ((ev.end_s - ev.start_s) * 1000.0 >= config_.min_event_ms) finished_.push_back(ev);
  is_open_[c] = false;
}

void TagAggregator::Flush() {
  if (since_hop_ > 0) {
    since_hop_ = 0;
    EmitWindow();
  }
  for (int c = 0; c < num_classes_; ++c)
    if (is_open_[c]) Close(c, FrameTime(frames_seen_));
}

std::vector<TagScore> TagAggregator::TopK() const {
  std::vector<int> order(num_classes_);
  std::iota(order.begin(), order.end(), 0);
  const int k = std::min(num_classes_, config_.top_k);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [this](int a, int b) { return window_scores_[a] > window_scores_[b]; });
  std::vector<TagScore> out;
  for (int i = 0; i < k; ++i) out.push_back({order[i], window_scores_[order[i]]});
  return out;
}

std::vector<TagEvent> TagAggregator::ActiveEvents() const {
  std::vector<TagEvent> out;
  for (int c = 0; c < num_classes_; ++c)
    if (is_open_[c]) out.push_back(open_[c]);
  return out;
}

std::vector<TagEvent> TagAggregator::TakeFinishedEvents() {
  std::vector<TagEvent> out;
  out.swap(finished_);
  return out;
}

std::vector<TagEvent> TagAggregator::TakeStartedEvents() {
  std::vector<TagEvent> out;
  out.swap(started_);
  return out;
}

}  // namespace mt2kd
