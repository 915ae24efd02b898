// Streaming CTC decoding: greedy, or prefix beam search with an optional word n-gram LM fused in
// (shallow fusion at word boundaries) and optional hotwords; BPE detokenisation.
//
// Words are BPE pieces between word starts ("▁"). When a hypothesis starts a new word, the word
// it just finished is scored: lm_weight x ln P_LM(word | previous words) + word_bonus; a word the
// LM does not know scores as <unk>, less oov_penalty. The word still being spelled is scored
// ahead (lm_lookahead): lm_weight x the best unigram ln P of the LM words it starts, replaced by the
// word's own score when it ends; if no LM word starts with it, it takes the oov_penalty at once. So
// the search cannot dodge the LM by never ending a word (without the lookahead a half-spelled rare
// word cost nothing until it ended, and one could run on for seconds). The last word and the
// sentence end </s> are scored at the end of an utterance (Final). Hotword words count as known. All of this is state of the hypotheses, carried frame by frame, so the result does not
// depend on how the frames were split into calls.
//
// Stable partials: once the best hypothesis has more than max_revised_words words, every
// hypothesis that disagrees with its earlier words is dropped, so a later partial (or the final
// result) only changes the last max_revised_words words of an earlier one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mt2kd/context_graph.h"
#include "mt2kd/ngram_lm.h"

namespace mt2kd {

struct DecodedToken {
  int id;
  int64_t frame;      // encoder frame (stream-global) where the token was first emitted
  int64_t end_frame;  // the last frame it was still being emitted (>= frame)
};

// Prefix beam search costs beam_size x tokens_per_frame prefix copies per frame; past a few dozen
// beams it gains nothing and a typo (100000) would run for minutes on seconds of audio.
inline constexpr int kMaxBeamSize = 64;

struct DecodingConfig {
  int beam_size = 1;          // 1: greedy best path; 2..kMaxBeamSize: CTC prefix beam search
  int tokens_per_frame = 8;   // beam search expands only this many best tokens per frame
  std::string lm;             // word n-gram LM file (ARPA or mt2kd binary); empty: none. Needs beam_size >= 2
  float lm_weight = 0.35f;    // scale on the LM's natural-log probabilities, 0-10
  float word_bonus = 1.0f;    // added per word when an LM is used (offsets its cost per word), -20-20
  float oov_penalty = 10.0f;  // taken from a word (or word start) the LM does not know, 0-50
  float hotword_boost = 1.5f;  // log-score per matched letter for hotwords given without their own
  int max_revised_words = 2;  // a partial revises at most this many trailing words, 0-100 (0: no limit)
  bool lm_lookahead = true;   // score the word being spelled by its best completion (false: 0 until it ends)
  void Validate() const;      // throws std::invalid_argument naming the option
};

class CtcDecoder {
 public:
  // `tokens`: the CTC units (index = id). `lm` and `hotwords` are optional; either needs beam search.
  CtcDecoder(const DecodingConfig &config, std::vector<std::string> tokens, int blank_id = 0,
             std::shared_ptr<const NgramLm> lm = nullptr, std::shared_ptr<const ContextGraph> hotwords = nullptr);
  // Without the tokens there are no words: no LM, hotwords or partial stability.
  explicit CtcDecoder(const DecodingConfig &config, int blank_id = 0);

  // log_probs: num_frames x vocab, row-major; first_frame: global index of row 0.
  void Accept(const float *log_probs, int num_frames, int vocab, int64_t first_frame);
  std::vector<DecodedToken> Best() const;   // the best hypothesis so far (a partial result; hotword
                                            // matches still in progress do not count)
  std::vector<DecodedToken> Final() const;  // the best if the utterance ended here: last word, </s> and
                                            // unfinished hotwords scored
  bool Empty() const;                       // the best hypothesis has no tokens yet
  void Reset();                             // a new utterance (the LM starts again after <s>)

 private:
  struct Hyp {
    float log_blank;     // log P(prefix, ending in blank)
    float log_nonblank;  // log P(prefix, ending in its last token)
    float lm = 0;        // LM and word-bonus score of the words finished so far
    float partial = 0;   // the word being spelled: its lookahead, or -oov_penalty if it starts no known word
    float hot = 0;       // hotword boost held now
    LmState lm_state;
    ContextGraph::State context;
    std::string word;    // the word being spelled, not yet scored
    int words = 0;       // words finished
    std::vector<int64_t> frames, end_frames;
  };
  void AcceptGreedy(const float *row, int vocab, int64_t frame);
  void AcceptBeam(const float *row, int vocab, int64_t frame);
  Hyp Extend(const Hyp &h, int token, int64_t frame) const;
  float WordScore(const std::string &word, LmState *state) const;
  float PartialScore(const std::string &word) const;  // Hyp::partial of a word being spelled
  float SearchScore(const Hyp &h) const;  // what pruning ranks by: hotword matches in progress count
  float ShownScore(const Hyp &h) const;   // what Best() ranks by: only completed hotwords count
  float FinalScore(const Hyp &h) const;   // ShownScore with the last word and </s> scored
  void Commit();  // stable partials: drop hypotheses that disagree with the best one's earlier words
  std::vector<std::string> Words(const std::vector<int> &prefix) const;
  static std::vector<DecodedToken> ToTokens(const std::vector<int> &prefix, const Hyp &h);

  DecodingConfig config_;
  int blank_;
  std::vector<std::string> tokens_;
  std::vector<std::string> pieces_;  // token text without its word-start mark
  std::vector<std::string> chars_;   // token letters as the hotword graph reads them
  std::vector<char> starts_word_;
  bool words_ = false;               // tokens are known
  std::shared_ptr<const NgramLm> lm_;
  std::shared_ptr<const ContextGraph> hotwords_;
  float unk_unigram_ = 0;            // natural-log P(<unk>) after nothing: what a hotword prefix scores at least
  // greedy state
  std::vector<DecodedToken> greedy_;
  int previous_ = -1;
  // beam state
  std::map<std::vector<int>, Hyp> beams_;
  int committed_words_ = 0;
};

// Joins BPE pieces: "▁" starts a word. Leading/trailing spaces are trimmed.
std::string Detokenize(const std::vector<std::string> &pieces);

}  // namespace mt2kd
