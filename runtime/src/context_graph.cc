#include "mt2kd/context_graph.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <set>
#include <sstream>
#include <stdexcept>

namespace mt2kd {

namespace {
const std::string kWordStart = "\xe2\x96\x81";  // U+2581, sentencepiece's word-start mark

std::string Quoted(const std::string &s) {
  std::string out = "'";
  for (char c : s.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) ? '?' : c;
  return out + (s.size() > 60 ? "...'" : "'");
}

std::string Normalise(const std::string &phrase) {
  std::string out;
  for (char c : phrase) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}
}  // namespace

std::string TokenChars(const std::string &token) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    if (token.compare(i, kWordStart.size(), kWordStart) == 0) {
      out += ' ';
      i += kWordStart.size();
    } else {
      out += token[i++];
    }
  }
  return out;
}

std::vector<Hotword> ParseHotwords(const std::string &text, const std::string &where) {
  std::vector<Hotword> out;
  std::istringstream in(text);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    auto fail = [&](const std::string &why) {
      throw std::invalid_argument(where + ":" + std::to_string(n) + ": " + why + " (a line is a phrase, optionally "
                                  "followed by ' :BOOST', e.g. 'new york :2.5')");
    };
    Hotword h;
    const size_t colon = line.rfind(':');
    if (colon != std::string::npos) {
      const std::string number = Normalise(line.substr(colon + 1));
      char *end = nullptr;
      errno = 0;
      const float boost = std::strtof(number.c_str(), &end);
      if (number.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(boost))
        fail("the boost " + Quoted(number) + " is not a number");
      if (!(boost > 0 && boost <= kMaxHotwordBoost))
        fail("the boost must be more than 0 and at most " + std::to_string(static_cast<int>(kMaxHotwordBoost)) +
             ", got " + Quoted(number));
      h.boost = boost;
      line.resize(colon);
    }
    h.phrase = Normalise(line);
    if (h.phrase.empty()) fail("no phrase before the boost");
    if (out.size() == kMaxHotwords) fail("more than " + std::to_string(kMaxHotwords) + " hotwords");
    out.push_back(std::move(h));
  }
  return out;
}

ContextGraph::ContextGraph(const std::vector<Hotword> &hotwords, float default_boost,
                           const std::vector<std::string> &tokens) {
  if (!(default_boost > 0 && default_boost <= kMaxHotwordBoost))
    throw std::invalid_argument("hotword_boost must be more than 0 and at most " +
                                std::to_string(static_cast<int>(kMaxHotwordBoost)));
  if (hotwords.size() > kMaxHotwords)
    throw std::invalid_argument("at most " + std::to_string(kMaxHotwords) + " hotwords, got " +
                                std::to_string(hotwords.size()));
  std::set<char> alphabet;  // the letters the tokens can spell (special tokens such as <unk> aside)
  for (const auto &t : tokens)
    if (!(t.size() > 2 && t.front() == '<' && t.back() == '>'))
      for (char c : TokenChars(t)) alphabet.insert(c);
  nodes_.emplace_back();
  for (const auto &h : hotwords) {
    const std::string phrase = Normalise(h.phrase);
    if (phrase.empty()) throw std::invalid_argument("hotword " + Quoted(h.phrase) + " is empty");
    if (phrase.size() > kMaxHotwordBytes)
      throw std::invalid_argument("hotword " + Quoted(phrase) + " is longer than " + std::to_string(kMaxHotwordBytes) +
                                  " bytes");
    const float boost = h.boost == 0 ? default_boost : h.boost;
    if (!(boost > 0 && boost <= kMaxHotwordBoost))
      throw std::invalid_argument("hotword " + Quoted(phrase) + ": boost must be more than 0 and at most " +
                                  std::to_string(static_cast<int>(kMaxHotwordBoost)));
    for (char c : phrase)
      if (c != ' ' && !alphabet.count(c))
        throw std::invalid_argument("hotword " + Quoted(phrase) + ": the model's tokens cannot spell " +
                                    Quoted(std::string(1, c)));
    int node = 0;
    for (char c : " " + phrase) {  // a phrase starts at a word start
      int child = Child(node, c);
      const float score = nodes_[node].score + (c == ' ' ? 0.0f : boost);
      if (child < 0) {
        child = static_cast<int>(nodes_.size());
        Node n;
        n.score = score;
        nodes_.push_back(n);
        auto &next = nodes_[node].next;
        next.insert(std::upper_bound(next.begin(), next.end(), std::make_pair(c, 0),
                                     [](const auto &a, const auto &b) { return a.first < b.first; }),
                    {c, child});
      } else {
        nodes_[child].score = std::max(nodes_[child].score, score);  // shared prefixes take the larger boost
      }
      node = child;
    }
    if (!nodes_[node].end) ++phrases_;
    nodes_[node].end = true;
    std::istringstream words(phrase);
    for (std::string w; words >> w;) words_.push_back(w);
  }
  std::sort(words_.begin(), words_.end());
  words_.erase(std::unique(words_.begin(), words_.end()), words_.end());
  // fail links, breadth first: the longest proper suffix of a node's letters that is also in the graph
  std::deque<int> queue;
  for (const auto &[c, child] : nodes_[0].next) {
    nodes_[child].fail = 0;
    queue.push_back(child);
  }
  while (!queue.empty()) {
    const int node = queue.front();
    queue.pop_front();
    for (const auto &[c, child] : nodes_[node].next) {
      int f = nodes_[node].fail;
      while (f != 0 && Child(f, c) < 0) f = nodes_[f].fail;
      const int target = Child(f, c);
      nodes_[child].fail = target >= 0 && target != child ? target : 0;
      queue.push_back(child);
    }
  }
}

bool ContextGraph::Knows(const std::string &word) const {
  return std::binary_search(words_.begin(), words_.end(), word);
}

bool ContextGraph::IsPrefix(const std::string &prefix) const {
  const auto it = std::lower_bound(words_.begin(), words_.end(), prefix);
  return it != words_.end() && it->compare(0, prefix.size(), prefix) == 0;
}

int ContextGraph::Child(int node, char c) const {
  const auto &next = nodes_[node].next;
  const auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(c, 0),
                                   [](const auto &a, const auto &b) { return a.first < b.first; });
  return it != next.end() && it->first == c ? it->second : -1;
}

float ContextGraph::Advance(State *state, const std::string &chars) const {
  const float before = Total(*state);
  for (char c : chars) {
    int next = Child(state->node, c);
    if (next < 0) {  // the match breaks off: its unbanked boost goes, a shorter match may go on
      int f = state->node;
      while (f != 0 && (next = Child(f, c)) < 0) f = nodes_[f].fail;
      if (f == 0) next = Child(0, c);
      state->base = 0;
      state->node = next < 0 ? 0 : next;
    } else {
      state->node = next;
    }
    const Node &n = nodes_[state->node];
    if (n.end) {  // a phrase is complete: its boost is kept from now on
      state->banked += n.score - state->base;
      state->base = n.score;
    }
  }
  return Total(*state) - before;
}

}  // namespace mt2kd
