#include "mt2kd/ctc_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
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

std::string Number(float v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

void DecodingConfig::Validate() const {
  if (beam_size < 1 || beam_size > kMaxBeamSize)
    throw std::invalid_argument("beam_size must be in 1-" + std::to_string(kMaxBeamSize) + ", got " +
                                std::to_string(beam_size));
  if (tokens_per_frame < 1) throw std::invalid_argument("tokens_per_frame must be >= 1");
  auto range = [](const char *name, float v, float lo, float hi, bool lo_open) {
    if (!((lo_open ? v > lo : v >= lo) && v <= hi))  // NaN fails too
      throw std::invalid_argument(std::string(name) + " must be " + (lo_open ? "more than " : "") + Number(lo) +
                                  (lo_open ? " and at most " : "-") + Number(hi) + ", got " + Number(v));
  };
  range("lm_weight", lm_weight, 0, 10, false);
  range("word_bonus", word_bonus, -20, 20, false);
  range("oov_penalty", oov_penalty, 0, 50, false);
  range("hotword_boost", hotword_boost, 0, kMaxHotwordBoost, true);
  if (max_revised_words < 0 || max_revised_words > 100)
    throw std::invalid_argument("max_revised_words must be in 0-100, got " + std::to_string(max_revised_words));
  if (!lm.empty() && beam_size < 2)
    throw std::invalid_argument("an LM needs beam search: beam_size must be 2 or more (it is 1, greedy)");
}

CtcDecoder::CtcDecoder(const DecodingConfig &config, int blank_id) : config_(config), blank_(blank_id) {
  config_.Validate();
  Reset();
}

CtcDecoder::CtcDecoder(const DecodingConfig &config, std::vector<std::string> tokens, int blank_id,
                       std::shared_ptr<const NgramLm> lm, std::shared_ptr<const ContextGraph> hotwords)
    : config_(config), blank_(blank_id), tokens_(std::move(tokens)), words_(true), lm_(std::move(lm)),
      hotwords_(hotwords && !hotwords->Empty() ? std::move(hotwords) : nullptr) {
  config_.Validate();
  if ((lm_ || hotwords_) && config_.beam_size < 2)
    throw std::invalid_argument(std::string(lm_ ? "an LM" : "hotwords") +
                                " need beam search: beam_size must be 2 or more (it is 1, greedy)");
  static const std::string kWordStart = "\xe2\x96\x81";
  for (const auto &t : tokens_) {
    const bool starts = t.compare(0, kWordStart.size(), kWordStart) == 0;
    starts_word_.push_back(starts);
    pieces_.push_back(starts ? t.substr(kWordStart.size()) : t);
    chars_.push_back(TokenChars(t));
  }
  if (lm_) unk_unigram_ = lm_->Score(LmState{}, lm_->UnkId(), nullptr);
  Reset();
}

void CtcDecoder::Reset() {
  greedy_.clear();
  previous_ = -1;
  beams_.clear();
  Hyp start;
  start.log_blank = 0.0f;
  start.log_nonblank = kNegInf;
  if (lm_) start.lm_state = lm_->BeginState();
  beams_.emplace(std::vector<int>{}, std::move(start));
  committed_words_ = 0;
}

void CtcDecoder::Accept(const float *log_probs, int num_frames, int vocab, int64_t first_frame) {
  if (words_ && vocab != static_cast<int>(tokens_.size()))
    throw std::invalid_argument("log_probs have " + std::to_string(vocab) + " columns but the decoder has " +
                                std::to_string(tokens_.size()) + " tokens");
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
  if (best != blank_ && best != previous_) greedy_.push_back({best, frame, frame});
  if (best != blank_ && best == previous_) greedy_.back().end_frame = frame;
  previous_ = best;
}

float CtcDecoder::WordScore(const std::string &word, LmState *state) const {
  if (!lm_) return 0.0f;
  const bool known = lm_->Knows(word) || (hotwords_ && hotwords_->Knows(word));
  return config_.lm_weight * lm_->Score(*state, lm_->WordId(word), state) + config_.word_bonus -
         (known ? 0.0f : config_.oov_penalty);
}

float CtcDecoder::PartialScore(const std::string &word) const {
  if (word.empty()) return 0.0f;
  const float best = lm_->PrefixBest(word);  // -inf: no LM word starts so
  // a hotword counts as known, and a known word scores at least as <unk> does
  const bool hot = hotwords_ && hotwords_->IsPrefix(word);
  if (best == kNegInf && !hot) return -config_.oov_penalty;
  if (!config_.lm_lookahead) return 0.0f;
  const float unk = hot ? unk_unigram_ : kNegInf;
  return config_.lm_weight * std::max(best, unk);
}

CtcDecoder::Hyp CtcDecoder::Extend(const Hyp &h, int token, int64_t frame) const {
  Hyp e = h;
  e.log_blank = e.log_nonblank = kNegInf;
  e.frames.push_back(frame);
  e.end_frames.push_back(frame);
  if (!words_ || token < 0 || token >= static_cast<int>(tokens_.size())) return e;
  if (starts_word_[token]) {
    if (!e.word.empty()) {  // the word before this one is finished: the LM scores it now
      e.lm += WordScore(e.word, &e.lm_state);
      ++e.words;
    }
    e.word = pieces_[token];
  } else {
    e.word += pieces_[token];
  }
  if (lm_) e.partial = PartialScore(e.word);
  if (hotwords_) {
    hotwords_->Advance(&e.context, chars_[token]);
    e.hot = hotwords_->Total(e.context);
  }
  return e;
}

float CtcDecoder::ShownScore(const Hyp &h) const {
  return LogAdd(h.log_blank, h.log_nonblank) + h.lm + h.partial + (hotwords_ ? hotwords_->Final(h.context) : 0.0f);
}

float CtcDecoder::SearchScore(const Hyp &h) const {
  return LogAdd(h.log_blank, h.log_nonblank) + h.lm + h.partial + h.hot;
}

float CtcDecoder::FinalScore(const Hyp &h) const {
  float s = LogAdd(h.log_blank, h.log_nonblank) + h.lm;  // the partial-word penalty is replaced by the word's own
  if (hotwords_) s += hotwords_->Final(h.context);
  if (lm_) {
    LmState state = h.lm_state;
    if (!h.word.empty()) s += WordScore(h.word, &state);
    s += config_.lm_weight * lm_->EndScore(state);
  }
  return s;
}

void CtcDecoder::AcceptBeam(const float *row, int vocab, int64_t frame) {
  // Only the most likely tokens of this frame can extend a prefix.
  std::vector<int> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  const int k = std::min(vocab, config_.tokens_per_frame);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [row](int a, int b) { return row[a] > row[b]; });

  // Each prefix of the next frame: from itself (a blank, or its last token again: `stay`) and from
  // its one shorter parent (its last token emitted now: `ext`).
  struct Slot {
    Hyp hyp;
    float stay = kNegInf, ext = kNegInf;
    const Hyp *parent = nullptr;
    bool carried = false;  // the prefix was in the beam already
  };
  std::map<std::vector<int>, Slot> next;
  for (const auto &[prefix, hyp] : beams_) {
    const float total = LogAdd(hyp.log_blank, hyp.log_nonblank);
    auto [it, fresh] = next.try_emplace(prefix);
    Slot &same = it->second;
    if (fresh) {
      same.hyp = hyp;
      same.hyp.log_blank = same.hyp.log_nonblank = kNegInf;
    } else {  // made this frame as an extension of its parent: the carried one keeps its times
      same.hyp.frames = hyp.frames;
      same.hyp.end_frames = hyp.end_frames;
    }
    same.carried = true;
    const float blank = total + row[blank_];
    same.hyp.log_blank = LogAdd(same.hyp.log_blank, blank);
    same.stay = LogAdd(same.stay, blank);
    if (!prefix.empty()) {
      const float stay = hyp.log_nonblank + row[prefix.back()];
      same.hyp.log_nonblank = LogAdd(same.hyp.log_nonblank, stay);
      same.stay = LogAdd(same.stay, stay);
      if (stay > blank) same.hyp.end_frames.back() = frame;  // its last token is still sounding
    }
    for (int i = 0; i < k; ++i) {
      const int c = order[i];
      if (c == blank_) continue;
      // after the same token, only a path that ended in blank starts a new one (else it collapses)
      const float from = (!prefix.empty() && prefix.back() == c ? hyp.log_blank : total) + row[c];
      if (from == kNegInf) continue;
      std::vector<int> extended = prefix;
      extended.push_back(c);
      auto [ext, made] = next.try_emplace(std::move(extended));
      if (made) ext->second.hyp = Extend(hyp, c, frame);
      ext->second.hyp.log_nonblank = LogAdd(ext->second.hyp.log_nonblank, from);
      ext->second.ext = LogAdd(ext->second.ext, from);
      ext->second.parent = &hyp;
    }
  }
  // A token's time is the frame its emission carried most of the prefix's probability: a prefix
  // first made by a faint path keeps the frame where it really was heard.
  for (auto &[prefix, slot] : next) {
    if (!slot.carried || !slot.parent || slot.ext <= slot.stay) continue;
    slot.hyp.frames = slot.parent->frames;
    slot.hyp.frames.push_back(frame);
    slot.hyp.end_frames = slot.parent->end_frames;
    slot.hyp.end_frames.push_back(frame);
  }
  // Pruning counts the boost of hotword matches still in progress (that keeps a nearly-heard
  // phrase alive); the best hypothesis without it (what Best() shows) is always kept as well, so
  // a match that breaks off has not pushed out the path that was really heard.
  using Entry = std::pair<float, std::map<std::vector<int>, Slot>::iterator>;
  std::vector<Entry> scored;
  scored.reserve(next.size());
  for (auto it = next.begin(); it != next.end(); ++it) scored.emplace_back(SearchScore(it->second.hyp), it);
  const size_t keep = std::min(scored.size(), static_cast<size_t>(config_.beam_size));
  // ties go to the smaller prefix, so the choice never depends on anything but the scores
  auto better = [](const Entry &a, const Entry &b) {
    return a.first > b.first || (a.first == b.first && a.second->first < b.second->first);
  };
  std::partial_sort(scored.begin(), scored.begin() + keep, scored.end(), better);
  if (hotwords_ && keep < scored.size()) {
    auto shown = std::min_element(scored.begin(), scored.end(), [this](const Entry &a, const Entry &b) {
      const float x = ShownScore(a.second->second.hyp), y = ShownScore(b.second->second.hyp);
      return x > y || (x == y && a.second->first < b.second->first);
    });
    if (shown >= scored.begin() + keep) std::iter_swap(scored.begin() + keep, shown);
  }
  const size_t kept = keep + (hotwords_ && keep < scored.size() ? 1 : 0);
  beams_.clear();
  for (size_t i = 0; i < kept; ++i) beams_.emplace(scored[i].second->first, std::move(scored[i].second->second.hyp));
  if (words_ && config_.max_revised_words > 0) Commit();
}

std::vector<std::string> CtcDecoder::Words(const std::vector<int> &prefix) const {
  std::vector<std::string> words;
  std::string current;
  for (int t : prefix) {
    if (starts_word_[t]) {
      if (!current.empty()) words.push_back(current);
      current = pieces_[t];
    } else {
      current += pieces_[t];
    }
  }
  if (!current.empty()) words.push_back(current);
  return words;
}

void CtcDecoder::Commit() {
  auto best = beams_.end();
  float best_score = kNegInf;
  for (auto it = beams_.begin(); it != beams_.end(); ++it) {
    const float s = ShownScore(it->second);
    if (best == beams_.end() || s > best_score) best = it, best_score = s;
  }
  const Hyp &b = best->second;
  const int target = b.words + (b.word.empty() ? 0 : 1) - config_.max_revised_words;
  if (target <= committed_words_) return;
  const std::vector<std::string> kept = Words(best->first);  // its first `target` words are finished
  for (auto it = beams_.begin(); it != beams_.end();) {
    bool agrees = it == best;
    if (!agrees && it->second.words >= target) {
      const auto words = Words(it->first);
      agrees = std::equal(kept.begin() + committed_words_, kept.begin() + target, words.begin() + committed_words_);
    }
    it = agrees ? std::next(it) : beams_.erase(it);
  }
  committed_words_ = target;
}

std::vector<DecodedToken> CtcDecoder::ToTokens(const std::vector<int> &prefix, const Hyp &h) {
  std::vector<DecodedToken> out;
  for (size_t i = 0; i < prefix.size(); ++i) out.push_back({prefix[i], h.frames[i], h.end_frames[i]});
  return out;
}

std::vector<DecodedToken> CtcDecoder::Best() const {
  if (config_.beam_size == 1) return greedy_;
  auto best = beams_.end();
  float best_score = kNegInf;
  for (auto it = beams_.begin(); it != beams_.end(); ++it) {
    const float s = ShownScore(it->second);
    if (best == beams_.end() || s > best_score) best = it, best_score = s;
  }
  return best == beams_.end() ? std::vector<DecodedToken>{} : ToTokens(best->first, best->second);
}

std::vector<DecodedToken> CtcDecoder::Final() const {
  if (config_.beam_size == 1) return greedy_;
  auto best = beams_.end();
  float best_score = kNegInf;
  for (auto it = beams_.begin(); it != beams_.end(); ++it) {
    const float s = FinalScore(it->second);
    if (best == beams_.end() || s > best_score) best = it, best_score = s;
  }
  return best == beams_.end() ? std::vector<DecodedToken>{} : ToTokens(best->first, best->second);
}

bool CtcDecoder::Empty() const {
  if (config_.beam_size == 1) return greedy_.empty();
  return Best().empty();
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
