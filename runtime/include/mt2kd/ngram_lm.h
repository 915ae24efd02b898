// A word n-gram language model (backoff form, as in ARPA files) for shallow fusion in the CTC beam
// search. It reads ARPA text (what KenLM's lmplz, SRILM or `python -m train.lm` write) or this
// project's compact binary form (`python -m train.lm` ships that; Save writes it).
//
// Binary form, little-endian, 4-byte aligned sections:
//   "MT2KDLM\0", u32 version (1), u32 order N (1-kMaxLmOrder), u32 id_bytes (2 or 4),
//   u32 count[N] (count[0] = vocabulary size), u32 vocab_bytes, the words NUL-terminated in id order;
//   then per order n: word ids (n > 1; id_bytes each), i16 log10 prob x 1000, and for n < N i16 log10
//   backoff x 1000 and u32 child_begin[count + 1] (where each entry's (n+1)-grams start in the next
//   order, sorted by word id); the file ends with a u32 FNV-1a checksum of everything before it.
// Probabilities are stored to 0.001 in log10 (0.0023 in natural log), clamped to [-32, 32].
//
// Nothing in a file is trusted: sizes, offsets, ids and ordering are checked at load, and every
// problem is one std::invalid_argument line that names the file.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mt2kd {

inline constexpr int kMaxLmOrder = 6;
// A model larger than this is a mistake on a device (the bundled one is under 5 MB).
inline constexpr int64_t kMaxLmBytes = int64_t{1} << 30;

// The last words a hypothesis has seen, most recent last (at most order - 1 of them).
struct LmState {
  int words[kMaxLmOrder - 1] = {};
  int length = 0;
  bool operator==(const LmState &o) const;
};

class NgramLm {
 public:
  // Loads an ARPA text file or a binary one (told apart by the first bytes). Throws
  // std::invalid_argument naming `path` if the file is missing, unreadable, or not a valid model.
  static std::shared_ptr<const NgramLm> Load(const std::string &path);
  static NgramLm FromArpa(const std::string &text, const std::string &where);
  static NgramLm FromBinary(const std::string &bytes, const std::string &where);
  // Writes the binary form atomically (a temporary file beside `path`, then rename).
  void Save(const std::string &path) const;
  std::string ToBinary() const;

  int Order() const { return order_; }
  int VocabSize() const { return static_cast<int>(word_end_.size()); }
  std::vector<int64_t> Counts() const;  // n-grams per order
  std::string Word(int id) const;       // std::out_of_range for an id past the vocabulary
  // The word's id, or the <unk> id for a word the model does not know.
  int WordId(const std::string &word) const;
  bool Knows(const std::string &word) const { return Lookup(word) >= 0; }
  // Some word of the vocabulary starts with `prefix` (the specials <unk>, <s>, </s> aside).
  bool IsPrefix(const std::string &prefix) const;
  // The best natural-log unigram P(w) over the words w that start with `prefix` (the specials aside),
  // or -infinity if none does: the beam search's lookahead for a word still being spelled, so a
  // hypothesis pays about what its word will cost as it spells it, not only once it ends.
  float PrefixBest(const std::string &prefix) const;
  int UnkId() const { return unk_; }
  int EndId() const { return end_; }

  LmState BeginState() const;  // after <s>
  // Natural-log P(word | state), with the state after it in *next (may alias nothing else).
  float Score(const LmState &state, int word, LmState *next) const;
  float EndScore(const LmState &state) const { return Score(state, end_, nullptr); }

 private:
  // One order's word ids, 16-bit where the binary file has them so (a vocabulary of at most 65536):
  // they are among the largest arrays, and widening them would cost a sixth of the model's memory.
  struct Ids {
    bool wide = false;
    std::vector<uint16_t> narrow;  // used when !wide
    std::vector<uint32_t> full;    // used when wide
    size_t size() const { return wide ? full.size() : narrow.size(); }
    uint32_t operator[](size_t i) const { return wide ? full[i] : narrow[i]; }
    void push_back(uint32_t id);
    // Position of `id` in the sorted range [first, last), or -1.
    int64_t Find(size_t first, size_t last, uint32_t id) const;
  };
  struct Order_ {
    Ids words;                     // empty for unigrams (the index is the id)
    std::vector<int16_t> probs;    // log10 x 1000
    std::vector<int16_t> backoffs; // log10 x 1000; empty for the highest order
    std::vector<uint32_t> child;   // count + 1 offsets into the next order; empty for the highest
  };
  // Index in order n (0-based: n = 0 is unigrams) of the n+1 words `ids[0..n]`, or -1.
  int64_t Find(const int *ids, int n) const;
  void Check(const std::string &where) const;  // structural invariants; throws naming `where`
  void BuildIndex(const std::string &where);
  void BuildPrefixBest();
  // The binary form from `in`, a seekable stream of `size` bytes: the checksum in a first pass,
  // then the sections read straight into their arrays.
  static NgramLm ReadBinary(std::istream &in, uint64_t size, const std::string &where);
  void AddWord(std::string_view word);
  std::string_view Text(int id) const;          // word `id`, without copying it
  size_t FirstNotBefore(std::string_view text) const;  // index in by_text_ of the first word >= text
  int Lookup(std::string_view word) const;      // the word's id, or -1

  int order_ = 0;
  // The vocabulary once, as the binary form stores it: the words NUL-terminated in id order, where
  // each ends (past its NUL), and the ids in byte order of their words (for WordId and IsPrefix).
  // Strings and a hash map per word cost several times the text for a vocabulary of short words.
  std::string words_;
  std::vector<uint32_t> word_end_;
  std::vector<uint32_t> by_text_;
  // A max-segment tree over the unigram log10 probs (x 1000) in by_text_ order, specials at the minimum:
  // PrefixBest in O(log V) for 2 V int16 (160 KB for the bundled 41k words).
  std::vector<int16_t> prefix_best_;
  std::vector<Order_> orders_;
  int unk_ = -1, begin_ = -1, end_ = -1;
};

}  // namespace mt2kd
