// Hotwords (contextual biasing): an Aho-Corasick automaton over the letters of a list of words
// and phrases. The beam search walks it with the letters each BPE piece adds, so a phrase is
// found whatever pieces spell it ("▁or" "gy" or "▁o" "r" "gy"). Each matched letter adds the
// phrase's boost to the hypothesis at once, which keeps a nearly-heard phrase in the beam; the
// boost of a match that breaks off is taken back at the next letter, and that of a match still
// unfinished when the utterance ends is not counted, so a phrase that is not there gains nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace mt2kd {

// Bounds on what a hotword list may ask for (a list is user input).
inline constexpr size_t kMaxHotwords = 10000;
inline constexpr size_t kMaxHotwordBytes = 200;
inline constexpr float kMaxHotwordBoost = 20.0f;

struct Hotword {
  std::string phrase;  // words separated by spaces; case is ignored
  float boost = 0;     // log-score per matched letter; 0: the decoder's default (hotword_boost)
};

// Reads a hotwords file's text: one phrase per line, optionally followed by " :BOOST"
// ("new york :2.5"); blank lines and lines starting with '#' are skipped. Throws
// std::invalid_argument naming `where` and the line number for a malformed line.
std::vector<Hotword> ParseHotwords(const std::string &text, const std::string &where);

class ContextGraph {
 public:
  // Where a hypothesis is in the automaton, and how much of its boost is already its own.
  struct State {
    int node = 0;
    float banked = 0;  // boost of completed phrases: kept
    float base = 0;    // the part of the node's score already banked (a phrase ended on the way)
  };

  // `tokens`: the CTC units; each phrase may only use letters they can spell ("▁" is a space).
  // Phrases are lower-cased with runs of spaces collapsed; an empty or unspellable phrase, or a
  // boost outside (0, kMaxHotwordBoost], throws std::invalid_argument naming the phrase.
  ContextGraph(const std::vector<Hotword> &hotwords, float default_boost, const std::vector<std::string> &tokens);

  bool Empty() const { return phrases_ == 0; }
  size_t NumPhrases() const { return phrases_; }
  // Walks `state` over `chars` (a token's letters, word starts as ' '); returns the change in
  // the hypothesis' boost (negative when a partial match breaks off).
  float Advance(State *state, const std::string &chars) const;
  // The boost a state holds now: banked plus the partial match in progress.
  float Total(const State &s) const { return s.banked + nodes_[s.node].score - s.base; }
  // What the state would keep if the utterance ended now (partial matches dropped).
  float Final(const State &s) const { return s.banked; }
  // The words of the phrases: the LM treats them as known (no out-of-vocabulary penalty).
  bool Knows(const std::string &word) const;
  bool IsPrefix(const std::string &prefix) const;  // of one of those words

 private:
  struct Node {
    std::vector<std::pair<char, int>> next;  // sorted by letter
    int fail = 0;
    float score = 0;  // boost of the letters from the root to here
    bool end = false;  // a phrase ends here
  };
  int Child(int node, char c) const;
  std::vector<Node> nodes_;
  std::vector<std::string> words_;  // sorted, distinct
  size_t phrases_ = 0;
};

// A token's letters as the automaton sees them: "▁" becomes a space (a word start).
std::string TokenChars(const std::string &token);

}  // namespace mt2kd
