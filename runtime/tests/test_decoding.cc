// Unit tests of the decoding stack without Python: the word n-gram LM (ARPA and binary forms, bad
// files), hotword parsing and the hotword automaton, and the beam search with the LM fused in, with
// hotwords, stable partials, word times and chunking invariance, all on made-up log-probabilities.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "mt2kd/context_graph.h"
#include "mt2kd/ctc_decoder.h"
#include "mt2kd/ngram_lm.h"

namespace {

const std::string W = "\xe2\x96\x81";  // word start
const std::vector<std::string> kTokens = {"<blk>",  W + "the", W + "cat", W + "cap", W + "sat", W + "ken",
                                          W + "kin", W + "z",  "e",       "bra",     "s",      W + "on"};
enum { kBlank, kThe, kCat, kCap, kSat, kKen, kKin, kZ, kE, kBra, kS, kOn };

// A 2-gram LM that knows "the cat sat on"; "cap" is not in it.
const char *kArpa = R"(some header text before the data

\data\
ngram 1=7
ngram 2=5

\1-grams:
-2.0	<unk>	0
-99	<s>	-0.5
-1.0	</s>	0
-0.8	the	-0.3
-1.0	cat	-0.2
-1.2	sat	-0.1
-1.1	on	-0.1

\2-grams:
-0.2	<s> the
-0.3	the cat
-0.3	cat sat
-0.4	sat on
-0.5	on </s>

\end\
)";

constexpr float kLn10 = 2.302585093f;

// One frame of log-probabilities: the given tokens with their probabilities, the rest of the mass on blank.
std::vector<float> Row(const std::map<int, float> &probs) {
  std::vector<float> row(kTokens.size(), std::log(1e-4f));
  float rest = 1.0f;
  for (const auto &[t, p] : probs) row[t] = std::log(p), rest -= p;
  row[kBlank] = std::log(std::max(rest, 1e-4f));
  return row;
}

std::vector<float> Frames(const std::vector<std::map<int, float>> &frames) {
  std::vector<float> out;
  for (const auto &f : frames) {
    auto row = Row(f);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

std::string Text(const std::vector<mt2kd::DecodedToken> &tokens) {
  std::vector<std::string> pieces;
  for (const auto &t : tokens) pieces.push_back(kTokens[t.id]);
  return mt2kd::Detokenize(pieces);
}

std::string Decode(const std::vector<float> &lp, const mt2kd::DecodingConfig &cfg,
                   std::shared_ptr<const mt2kd::NgramLm> lm = nullptr,
                   std::shared_ptr<const mt2kd::ContextGraph> hot = nullptr) {
  mt2kd::CtcDecoder d(cfg, kTokens, 0, lm, hot);
  d.Accept(lp.data(), static_cast<int>(lp.size() / kTokens.size()), static_cast<int>(kTokens.size()), 0);
  return Text(d.Final());
}

bool Near(float a, float b) { return std::fabs(a - b) < 1e-2f; }

int TestLm() {
  const auto lm = mt2kd::NgramLm::FromArpa(kArpa, "test.arpa");
  CHECK(lm.Order() == 2 && lm.VocabSize() == 7 && lm.Counts()[1] == 5);
  mt2kd::LmState s = lm.BeginState(), next;
  CHECK(Near(lm.Score(s, lm.WordId("the"), &next), -0.2f * kLn10));  // a listed bigram
  CHECK(next.length == 1 && lm.Word(next.words[0]) == "the");
  s = next;
  CHECK(Near(lm.Score(s, lm.WordId("sat"), &next), (-0.3f - 1.2f) * kLn10));  // backoff(the) + P(sat)
  CHECK(Near(lm.Score(s, lm.WordId("cap"), &next), (-0.3f - 2.0f) * kLn10));  // unknown: <unk>
  CHECK(lm.WordId("cap") == lm.UnkId() && !lm.Knows("cap") && lm.Knows("cat"));
  // the binary form scores exactly the same, and round-trips through a file
  const std::string path = "test_lm.bin";
  lm.Save(path);
  const auto loaded = mt2kd::NgramLm::Load(path);
  CHECK(loaded->ToBinary() == lm.ToBinary());
  mt2kd::LmState a = lm.BeginState(), b = loaded->BeginState();
  for (const char *w : {"the", "cat", "sat", "on", "cap", "the"}) {
    const float x = lm.Score(a, lm.WordId(w), &a), y = loaded->Score(b, loaded->WordId(w), &b);
    CHECK(x == y);
  }
  CHECK(lm.EndScore(a) == loaded->EndScore(b));
  // damaged files are refused with one line naming the file
  std::string bytes = lm.ToBinary();
  auto refused = [&](const std::string &content, const std::string &want) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    try {
      mt2kd::NgramLm::Load(path);
    } catch (const std::invalid_argument &e) {
      const std::string what = e.what();
      return what.find(path) == 0 && what.find(want) != std::string::npos && what.find('\n') == std::string::npos;
    }
    return false;
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  CHECK(refused(flipped, "checksum"));
  CHECK(refused(bytes.substr(0, bytes.size() - 9), "corrupt"));
  CHECK(refused("\x1f\x8b\x08\x00", "gzip"));
  CHECK(refused("hello", "not an LM file"));
  CHECK(refused(std::string(kArpa).substr(0, 200), "ARPA"));  // truncated text
  std::string bad_count = kArpa;
  bad_count.replace(bad_count.find("ngram 2=5"), 9, "ngram 2=6");
  CHECK(refused(bad_count, "the header says 6"));
  std::string unknown_word = kArpa;
  unknown_word.replace(unknown_word.find("sat on"), 6, "sat up");
  CHECK(refused(unknown_word, "'up' is not among the 1-grams"));
  std::remove(path.c_str());
  CHECK(refused("", "not an LM file"));
  std::remove(path.c_str());
  CHECK(Throws([] { mt2kd::NgramLm::Load("no_such_lm.bin"); }));
  return 0;
}

int TestHotwordParsing() {
  auto hw = mt2kd::ParseHotwords("# names\n\n  New   York :2.5\nken\r\norgy:1\n", "hw.txt");
  CHECK(hw.size() == 3 && hw[0].phrase == "new york" && hw[0].boost == 2.5f && hw[1].phrase == "ken" && hw[1].boost == 0);
  CHECK(hw[2].phrase == "orgy" && hw[2].boost == 1.0f);
  auto names_line = [](const std::string &text, const std::string &want) {
    try {
      mt2kd::ParseHotwords(text, "hw.txt");
    } catch (const std::invalid_argument &e) {
      return std::string(e.what()).find(want) == 0;
    }
    return false;
  };
  CHECK(names_line("ok\nbad :x\n", "hw.txt:2: the boost 'x' is not a number"));
  CHECK(names_line("a :0\n", "hw.txt:1: the boost must be"));
  CHECK(names_line("a :nan\n", "hw.txt:1:"));
  CHECK(names_line(" :3\n", "hw.txt:1: no phrase"));
  CHECK(mt2kd::ParseHotwords("", "hw.txt").empty());
  // the automaton refuses what the tokens cannot spell, and bad boosts
  CHECK(Throws([] { mt2kd::ContextGraph({{"k9", 0}}, 1.5f, kTokens); }));
  CHECK(Throws([] { mt2kd::ContextGraph({{"ken", 50}}, 1.5f, kTokens); }));
  CHECK(Throws([] { mt2kd::ContextGraph({{"  ", 0}}, 1.5f, kTokens); }));
  // boosts: given letter by letter, taken back when the match breaks, kept once a phrase completes
  mt2kd::ContextGraph g({{"cat sat", 1.0f}, {"ken", 2.0f}}, 1.5f, kTokens);
  CHECK(g.NumPhrases() == 2);
  mt2kd::ContextGraph::State s;
  CHECK(Near(g.Advance(&s, " cat"), 3.0f));
  CHECK(Near(g.Advance(&s, " on"), -3.0f) && Near(g.Total(s), 0));  // "cat on": the match broke off
  CHECK(Near(g.Advance(&s, " cat"), 3.0f) && Near(g.Final(s), 0));  // unfinished: worth nothing at the end
  CHECK(Near(g.Advance(&s, " sat"), 3.0f) && Near(g.Final(s), 6.0f));  // complete: kept
  CHECK(Near(g.Advance(&s, " ken"), 6.0f) && Near(g.Final(s), 12.0f));
  CHECK(Near(g.Advance(&s, " the"), 0.0f) && Near(g.Total(s), 12.0f));  // banked boosts stay
  return 0;
}

int TestLmFusion() {
  auto lm = std::make_shared<const mt2kd::NgramLm>(mt2kd::NgramLm::FromArpa(kArpa, "test.arpa"));
  // "the cap sat" is what the acoustics prefer; only the LM makes "the cat sat" win
  const auto lp = Frames({{{kThe, 0.9f}}, {}, {{kCap, 0.5f}, {kCat, 0.4f}}, {}, {{kSat, 0.9f}}, {}});
  mt2kd::DecodingConfig beam;
  beam.beam_size = 4;
  CHECK(Decode(lp, beam) == "the cap sat");
  mt2kd::DecodingConfig fused = beam;
  fused.lm = "test.arpa";  // Validate only checks that it is set; the decoder takes the loaded model
  fused.lm_weight = 0.8f;
  fused.word_bonus = 0.5f;
  CHECK(Decode(lp, fused, lm) == "the cat sat");
  fused.lm_weight = 0;  // weight 0 and no OOV penalty: the LM has no say
  fused.oov_penalty = 0;
  CHECK(Decode(lp, fused, lm) == "the cap sat");
  // greedy cannot take an LM, and the weights are range-checked
  mt2kd::DecodingConfig greedy;
  greedy.lm = "x.arpa";
  CHECK(Throws([&] { greedy.Validate(); }));
  CHECK(Throws([&] { mt2kd::CtcDecoder d(mt2kd::DecodingConfig{}, kTokens, 0, lm); }));
  mt2kd::DecodingConfig bad = beam;
  bad.lm_weight = NAN;
  CHECK(Throws([&] { bad.Validate(); }));
  bad = beam;
  bad.word_bonus = 100;
  CHECK(Throws([&] { bad.Validate(); }));
  return 0;
}

int TestHotwordDecoding() {
  mt2kd::DecodingConfig beam;
  beam.beam_size = 4;
  // the acoustics lean to "kin"; the hotword "ken" recovers it
  const auto near = Frames({{{kThe, 0.9f}}, {}, {{kKin, 0.5f}, {kKen, 0.4f}}, {}});
  CHECK(Decode(near, beam) == "the kin");
  auto ken = std::make_shared<const mt2kd::ContextGraph>(std::vector<mt2kd::Hotword>{{"ken", 0}}, 1.5f, kTokens);
  CHECK(Decode(near, beam, nullptr, ken) == "the ken");
  // a phrase that is not there is not produced, even boosted hard; an empty list changes nothing
  const auto cat = Frames({{{kThe, 0.9f}}, {}, {{kCat, 0.8f}}, {}, {{kSat, 0.8f}}, {}});
  auto zebra = std::make_shared<const mt2kd::ContextGraph>(std::vector<mt2kd::Hotword>{{"zebra", 5.0f}}, 1.5f, kTokens);
  CHECK(Decode(cat, beam, nullptr, zebra) == "the cat sat");
  auto none = std::make_shared<const mt2kd::ContextGraph>(std::vector<mt2kd::Hotword>{}, 1.5f, kTokens);
  CHECK(Decode(near, beam, nullptr, none) == "the kin");
  // hotwords need beam search
  CHECK(Throws([&] { mt2kd::CtcDecoder d(mt2kd::DecodingConfig{}, kTokens, 0, nullptr, ken); }));
  return 0;
}

// Random frames over the test vocabulary: a few tokens compete in each frame.
std::vector<float> RandomFrames(std::mt19937 &rng, int frames) {
  std::vector<std::map<int, float>> out;
  std::uniform_int_distribution<int> token(1, static_cast<int>(kTokens.size()) - 1), kind(0, 3);
  std::uniform_real_distribution<float> share(0.2f, 0.7f);
  for (int t = 0; t < frames; ++t) {
    if (kind(rng) == 0) {
      out.push_back({});
      continue;
    }
    const float p = share(rng);
    std::map<int, float> f{{token(rng), p}};
    f[token(rng)] += (1 - p) * 0.6f;
    out.push_back(f);
  }
  return Frames(out);
}

std::vector<std::string> SplitWords(const std::string &text) {
  std::vector<std::string> words;
  std::string w;
  for (char c : text + " ") {
    if (c == ' ') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  return words;
}

int TestStreamingProperties() {
  auto lm = std::make_shared<const mt2kd::NgramLm>(mt2kd::NgramLm::FromArpa(kArpa, "test.arpa"));
  auto hot = std::make_shared<const mt2kd::ContextGraph>(std::vector<mt2kd::Hotword>{{"ken sat", 0}}, 1.5f, kTokens);
  const int vocab = static_cast<int>(kTokens.size());
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const int frames = 60;
    const auto lp = RandomFrames(rng, frames);
    mt2kd::DecodingConfig cfg;
    cfg.beam_size = 2 + trial % 5;
    cfg.lm = "test.arpa";
    cfg.max_revised_words = 1 + trial % 3;
    // chunking invariance: the same frames in random pieces give the same result
    mt2kd::CtcDecoder whole(cfg, kTokens, 0, lm, hot), pieces(cfg, kTokens, 0, lm, hot);
    whole.Accept(lp.data(), frames, vocab, 0);
    std::vector<std::vector<std::string>> partials;
    for (int at = 0; at < frames;) {
      const int n = std::min(frames - at, 1 + static_cast<int>(rng() % 9));
      pieces.Accept(lp.data() + static_cast<size_t>(at) * vocab, n, vocab, at);
      at += n;
      partials.push_back(SplitWords(Text(pieces.Best())));
    }
    CHECK(Text(whole.Final()) == Text(pieces.Final()));
    const auto a = whole.Final(), b = pieces.Final();
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].frame == b[i].frame && a[i].end_frame == b[i].end_frame);
    // stable partials: every later partial (and the final text) keeps all but the last
    // max_revised_words words of every earlier one
    partials.push_back(SplitWords(Text(pieces.Final())));
    for (size_t i = 0; i < partials.size(); ++i)
      for (size_t j = i + 1; j < partials.size(); ++j) {
        const auto &early = partials[i], &late = partials[j];
        const size_t fixed = early.size() > static_cast<size_t>(cfg.max_revised_words)
                                 ? early.size() - cfg.max_revised_words
                                 : 0;
        CHECK(late.size() >= fixed && std::equal(early.begin(), early.begin() + fixed, late.begin()));
      }
  }
  return 0;
}

int TestTimes() {
  // "the" held for three frames from frame 1, then "cat" at frame 6
  const auto lp = Frames({{}, {{kThe, 0.9f}}, {{kThe, 0.9f}}, {{kThe, 0.9f}}, {}, {}, {{kCat, 0.9f}}, {}});
  for (int beam : {1, 4}) {
    mt2kd::DecodingConfig cfg;
    cfg.beam_size = beam;
    mt2kd::CtcDecoder d(cfg, kTokens);
    d.Accept(lp.data(), 8, static_cast<int>(kTokens.size()), 100);
    const auto best = d.Final();
    CHECK(best.size() == 2 && best[0].id == kThe && best[0].frame == 101 && best[0].end_frame == 103);
    CHECK(best[1].id == kCat && best[1].frame == 106 && best[1].end_frame == 106);
  }
  return 0;
}

}  // namespace

// The lookahead: a word being spelled pays for its best completion as it is spelled.
const char *kLookaheadArpa = R"(\data\
ngram 1=7

\1-grams:
-2.0	<unk>
-99	<s>
-1.0	</s>
-0.8	the
-2.0	cat
-0.5	sat
-5.0	catastrophe

\end\
)";

int TestLmLookahead() {
  auto lm = std::make_shared<const mt2kd::NgramLm>(mt2kd::NgramLm::FromArpa(kLookaheadArpa, "look.arpa"));
  CHECK(Near(lm->PrefixBest("cat"), -2.0f * kLn10) && Near(lm->PrefixBest("cata"), -5.0f * kLn10));
  CHECK(Near(lm->PrefixBest(""), -0.5f * kLn10) && Near(lm->PrefixBest("th"), -0.8f * kLn10));
  CHECK(lm->PrefixBest("x") == -INFINITY && lm->PrefixBest("<") == -INFINITY);  // the specials are no words
  const auto again = mt2kd::NgramLm::FromBinary(lm->ToBinary(), "look.bin");
  CHECK(again.PrefixBest("cata") == lm->PrefixBest("cata"));
  // The acoustics lean to "cata..." (the start of a rare word) over "cat", then say "sat". Without the
  // lookahead "the cata" and "the cat" (blank for "sat") cost nothing yet, while "the cat sat" has paid
  // for the rare "cat": the two fill a beam of 2 and "sat" is lost for good. With it, every hypothesis
  // pays for what it spells ("the cata" for "catastrophe"), so "the cat sat" stays and wins.
  const std::vector<std::string> tokens = {"<blk>", W + "the", W + "cat", "a", W + "sat"};
  std::vector<float> lp;
  for (const std::map<int, float> &frame : std::vector<std::map<int, float>>{
           {{1, 0.95f}}, {{2, 0.995f}}, {{3, 0.75f}}, {{4, 0.7f}}, {}}) {
    std::vector<float> row(tokens.size(), std::log(1e-4f));
    float rest = 1.0f;
    for (const auto &[t, p] : frame) row[t] = std::log(p), rest -= p;
    row[0] = std::log(std::max(rest, 1e-4f));
    lp.insert(lp.end(), row.begin(), row.end());
  }
  mt2kd::DecodingConfig cfg;
  cfg.beam_size = 2;
  cfg.lm = "look.arpa";
  cfg.lm_weight = 0.8f;
  cfg.word_bonus = 0.5f;
  auto decode = [&](bool lookahead) {
    cfg.lm_lookahead = lookahead;
    mt2kd::CtcDecoder d(cfg, tokens, 0, lm);
    d.Accept(lp.data(), static_cast<int>(lp.size() / tokens.size()), static_cast<int>(tokens.size()), 0);
    std::vector<std::string> pieces;
    for (const auto &t : d.Final()) pieces.push_back(tokens[t.id]);
    return mt2kd::Detokenize(pieces);
  };
  const std::string with = decode(true), without = decode(false);
  CHECK(with == "the cat sat" && without != with);
  return 0;
}

int main() {
  if (TestLm() || TestHotwordParsing() || TestLmFusion() || TestHotwordDecoding() || TestStreamingProperties() ||
      TestTimes() || TestLmLookahead())
    return 1;
  std::puts("test_decoding: all checks passed");
  return 0;
}
