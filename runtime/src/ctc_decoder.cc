#include "mt2kd/ctc_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace mt2kd {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float LogAdd(float a, float b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const float m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}
}  // namespace

void DecodingConfig::Validate() const {
  if (beam_size < 1 || beam_size > kMaxBeamSize)
    throw std::invalid_argument("beam_size must be in 1-" + std::to_string(kMaxBeamSize) + ", got " +
                                std::to_string(beam_size));
  if (tokens_per_frame < 1) throw std::invalid_argument("tokens_per_frame must be >= 1");
}

CtcDecoder::CtcDecoder(const DecodingConfig &config, int blank_id) : config_(config), blank_(blank_id) {
  config_.Validate();
  Reset();
}

void CtcDecoder::Reset() {
  greedy_.clear();
  previous_ = -1;
  beams_.clear();
  beams_[{}] = Hyp{0.0f, kNegInf, {}};
}

void CtcDecoder::Accept(const float *log_probs, int num_frames, int vocab, int64_t first_frame) {
  for (int t = 0; t < num_frames; ++t) {
    const float *row = log_probs + static_cast<size_t>(t) * vocab;
    if (config_.beam_size == 1)
      AcceptGreedy(row, vocab, first_frame + t);
    else
      AcceptBeam(row, vocab, first_frame + t);
  }
}

void CtcDecoder::AcceptGreedy(const float *row, int vocab, int64_t frame) {
  const int best = static_cast<int>(std::max_element(row, row + vocab) - row);
  if (best != blank_ && best != previous_) greedy_.push_back({best, frame});
  previous_ = best;
}

void CtcDecoder::AcceptBeam(const float *row, int vocab, int64_t frame) {
  // Only the most likely tokens of this frame can extend a prefix.
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  const int k = std::min(vocab, config_.tokens_per_frame);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [row](int a, int b) { return row[a] > row[b]; });

  std::map<std::vector<int>, Hyp> next;
  auto slot = [&next](const std::vector<int> &prefix, const std::vector<int64_t> &frames) -> Hyp & {
    auto it = next.find(prefix);
    if (it == next.end()) it = next.emplace(prefix, Hyp{kNegInf, kNegInf, frames}).first;
    return it->second;
  };
  for (const auto &[prefix, hyp] : beams_) {
    const float total = LogAdd(hyp.log_blank, hyp.log_nonblank);
    Hyp &same = slot(prefix, hyp.frames);
    same.log_blank = LogAdd(same.log_blank, total + row[blank_]);
    for (int i = 0; i < k; ++i) {
      const int c = order[i];
      if (c == blank_) continue;
      const float p = row[c];
      std::vector<int> extended = prefix;
      extended.push_back(c);
      std::vector<int64_t> frames = hyp.frames;
      frames.push_back(frame);
      if (!prefix.empty() && prefix.back() == c) {
        same.log_nonblank = LogAdd(same.log_nonblank, hyp.log_nonblank + p);  // a repeat collapses
        Hyp &ext = slot(extended, frames);
        ext.log_nonblank = LogAdd(ext.log_nonblank, hyp.log_blank + p);  // blank between: a new token
      } else {
        Hyp &ext = slot(extended, frames);
        ext.log_nonblank = LogAdd(ext.log_nonblank, total + p);
      }
    }
  }
  std::vector<std::pair<float, const std::vector<int> *>> scored;
  for (const auto &[prefix, hyp] : next) scored.emplace_back(LogAdd(hyp.log_blank, hyp.log_nonblank), &prefix);
  const size_t keep = std::min(scored.size(), static_cast<size_t>(config_.beam_size));
  std::partial_sort(scored.begin(), scored.begin() + keep, scored.end(),
                    [](const auto &a, const auto &b) { return a.first > b.first; });
  std::map<std::vector<int>, Hyp> pruned;
  for (size_t i = 0; i < keep; ++i) pruned.emplace(*scored[i].second, next.at(*scored[i].second));
  beams_ = std::move(pruned);
}

std::vector<DecodedToken> CtcDecoder::Best() const {
  if (config_.beam_size == 1) return greedy_;
  const std::vector<int> *best = nullptr;
  const Hyp *best_hyp = nullptr;
  float best_score = kNegInf;
  for (const auto &[prefix, hyp] : beams_) {
    const float s = LogAdd(hyp.log_blank, hyp.log_nonblank);
    if (!best || s > best_score) best = &prefix, best_hyp = &hyp, best_score = s;
  }
  std::vector<DecodedToken> out;
  for (size_t i = 0; best && i < best->size(); ++i) out.push_back({(*best)[i], best_hyp->frames[i]});
  return out;
}

std::string Detokenize(const std::vector<std::string> &pieces) {
  static const std::string kWordStart = "\xe2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK
  std::string text;
  for (const auto &p : pieces) text += p;
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, kWordStart.size(), kWordStart) == 0) {
      out += ' ';
      i += kWordStart.size();
    } else {
      out += text[i++];
    }
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

}  // namespace mt2kd
