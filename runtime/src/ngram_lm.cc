#include "mt2kd/ngram_lm.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <unordered_map>

namespace mt2kd {

namespace {

constexpr char kMagic[8] = {'M', 'T', '2', 'K', 'D', 'L', 'M', '\0'};
constexpr uint32_t kVersion = 1;
constexpr float kScale = 1000.0f;  // stored log10 values are x 1000 in an int16
constexpr float kLn10 = 2.302585093f;
constexpr float kMissingUnkLog10 = -100.0f;  // an ARPA file without <unk> (closed vocabulary), as KenLM does

int16_t Quantize(float log10) {
  const float q = std::round(std::clamp(log10, -32.0f, 32.0f) * kScale);
  return static_cast<int16_t>(q);
}

// Short, printable excerpt of a line for an error message.
std::string Excerpt(const std::string &s) {
  std::string out = s.substr(0, 60);
  for (char &c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  return s.size() > 60 ? out + "..." : out;
}

constexpr uint32_t kFnvBasis = 2166136261u;

uint32_t Fnv1a(const char *data, size_t n, uint32_t h = kFnvBasis) {
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 16777619u;
  return h;
}

[[noreturn]] void ReadFailed(const std::string &where) {
  throw std::invalid_argument(where + ": LM file could not be read whole");
}

// FNV-1a of the stream's next `n` bytes, read in pieces so that a file is never held whole.
uint32_t Fnv1aOf(std::istream &in, uint64_t n, const std::string &where) {
  std::vector<char> piece(size_t{1} << 16);
  uint32_t h = kFnvBasis;
  while (n > 0) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n, piece.size()));
    if (!in.read(piece.data(), static_cast<std::streamsize>(k))) ReadFailed(where);
    h = Fnv1a(piece.data(), k, h);
    n -= k;
  }
  return h;
}

// A read-only, seekable stream buffer over bytes in memory, so that FromBinary parses a string the
// way Load parses a file (std::istringstream would copy the string).
class MemoryBuf : public std::streambuf {
 public:
  explicit MemoryBuf(const std::string &bytes) {
    char *p = const_cast<char *>(bytes.data());  // never written: there is no put area
    setg(p, p, p + bytes.size());
  }

 protected:
  pos_type seekpos(pos_type pos, std::ios_base::openmode) override {
    if (pos < 0 || pos > egptr() - eback()) return pos_type(off_type(-1));
    setg(eback(), eback() + off_type(pos), egptr());
    return pos;
  }
};

// Little-endian reader over the next `size` bytes of a stream that refuses to read past them.
class Cursor {
 public:
  Cursor(std::istream &in, uint64_t size, const std::string &where) : in_(in), size_(size), where_(where) {}
  template <typename T>
  T Get() {
    T v;
    Read(&v, sizeof(T));
    return v;
  }
  template <typename T>
  std::vector<T> Array(uint64_t n) {
    if (n > (size_ - at_) / sizeof(T)) Fail();  // before allocating for a count the file made up
    std::vector<T> v(n);
    Read(v.data(), n * sizeof(T));
    return v;
  }
  std::string Bytes(uint64_t n) {
    Need(n);
    std::string s(n, '\0');
    Read(s.data(), n);
    return s;
  }
  void Align() { Skip((4 - at_ % 4) % 4); }
  void Skip(uint64_t n) {
    Need(n);
    if (n && !in_.ignore(static_cast<std::streamsize>(n))) Fail();
    at_ += n;
  }
  uint64_t At() const { return at_; }

 private:
  void Read(void *to, uint64_t n) {
    Need(n);
    if (n && !in_.read(static_cast<char *>(to), static_cast<std::streamsize>(n))) Fail();
    at_ += n;
  }
  void Need(uint64_t n) const {
    if (n > size_ - at_) Fail();
  }
  [[noreturn]] void Fail() const { throw std::invalid_argument(where_ + ": LM file is truncated (corrupt?)"); }
  std::istream &in_;
  const uint64_t size_;
  const std::string &where_;
  uint64_t at_ = 0;
};

template <typename T>
int64_t FindSorted(const std::vector<T> &ids, size_t first, size_t last, uint32_t id) {
  if (id > std::numeric_limits<T>::max()) return -1;
  const auto begin = ids.begin() + first, end = ids.begin() + last;
  const auto it = std::lower_bound(begin, end, static_cast<T>(id));
  return it == end || *it != static_cast<T>(id) ? -1 : it - ids.begin();
}

template <typename T>
void Put(std::string &out, T v) {
  out.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

template <typename T>
void PutArray(std::string &out, const std::vector<T> &v) {
  if (!v.empty()) out.append(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(T));
}

void PadTo4(std::string &out) {
  while (out.size() % 4) out.push_back('\0');
}

bool ParseFloat(const std::string &s, float *out) {
  char *end = nullptr;
  errno = 0;
  const float v = std::strtof(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

bool LmState::operator==(const LmState &o) const {
  return length == o.length && std::equal(words, words + length, o.words);
}

std::shared_ptr<const NgramLm> NgramLm::Load(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument(path + ": LM file not found or unreadable (" + std::strerror(errno) + ")");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) throw std::invalid_argument(path + ": LM file is unreadable");
  if (size > kMaxLmBytes)
    throw std::invalid_argument(path + ": LM file is " + std::to_string(size) + " bytes; the limit is " +
                                std::to_string(kMaxLmBytes));
  // the binary form is parsed from the file, section by section, so its bytes are not held besides
  // the arrays made from them; ARPA text is read whole (it is compiled, not shipped)
  char head[sizeof(kMagic)] = {};
  const std::streamsize head_size = std::min<std::streamoff>(size, sizeof(head));
  f.seekg(0);
  if (!f.read(head, head_size)) ReadFailed(path);
  f.seekg(0);
  if (head_size == sizeof(kMagic) && std::memcmp(head, kMagic, sizeof(kMagic)) == 0)
    return std::make_shared<const NgramLm>(ReadBinary(f, static_cast<uint64_t>(size), path));
  if (head_size >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
    throw std::invalid_argument(path + ": LM file is gzip-compressed; gunzip it first (or compile it with "
                                "`python -m train.lm compile`)");
  std::string text(static_cast<size_t>(size), '\0');
  if (!f.read(text.data(), size)) ReadFailed(path);
  return std::make_shared<const NgramLm>(FromArpa(text, path));
}

NgramLm NgramLm::FromArpa(const std::string &text, const std::string &where) {
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  auto fail = [&](const std::string &why) -> void {
    throw std::invalid_argument(where + ":" + std::to_string(line_no) + ": not a valid ARPA LM (" + why + ")");
  };
  // header
  bool in_data = false;
  std::vector<int64_t> declared;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!in_data) {
      if (line == "\\data\\") in_data = true;
      continue;
    }
    if (line.empty()) {
      if (!declared.empty()) break;
      continue;
    }
    if (line.rfind("ngram ", 0) != 0) break;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) fail("bad count line '" + Excerpt(line) + "'");
    const int n = std::atoi(line.substr(6, eq - 6).c_str());
    const long long count = std::atoll(line.substr(eq + 1).c_str());
    if (n != static_cast<int>(declared.size()) + 1 || n > kMaxLmOrder)
      fail("orders must be 1, 2, ... up to " + std::to_string(kMaxLmOrder) + ", got '" + Excerpt(line) + "'");
    if (count < (n == 1 ? 1 : 0) || count > kMaxLmBytes) fail("bad n-gram count '" + Excerpt(line) + "'");
    declared.push_back(count);
  }
  if (!in_data) throw std::invalid_argument(where + ": not an LM file (no \\data\\ header of an ARPA file, "
                                            "and not the mt2kd binary form)");
  if (declared.empty()) fail("no 'ngram N=count' lines");
  NgramLm lm;
  lm.order_ = static_cast<int>(declared.size());
  lm.orders_.resize(lm.order_);
  // n-grams of order >= 2 as (ids, prob, backoff) before they are sorted into the trie
  struct Entry {
    std::vector<int> ids;
    int16_t prob, backoff;
  };
  std::vector<std::vector<Entry>> raw(lm.order_);
  std::unordered_map<std::string, int> ids;  // the words' ids while the text is read
  int n = 0;  // the section being read (1-based), 0 before the first
  auto header_of = [](int k) { return "\\" + std::to_string(k) + "-grams:"; };
  bool ended = false;
  std::vector<std::string> fields;
  auto check_count = [&] {  // the section just read against the header
    const int64_t got = n == 1 ? lm.VocabSize() : static_cast<int64_t>(raw[n - 1].size());
    if (got != declared[n - 1])
      fail(std::to_string(n) + "-grams: the header says " + std::to_string(declared[n - 1]) + ", the section has " +
           std::to_string(got));
  };
  do {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '\\') {
      if (line == "\\end\\") {
        ended = true;
        break;
      }
      if (line != header_of(n + 1)) fail("expected " + header_of(n + 1) + ", got '" + Excerpt(line) + "'");
      if (n > 0) check_count();
      if (++n > lm.order_) fail("more sections than the header's orders");
      continue;
    }
    if (n == 0) fail("text before the 1-grams section: '" + Excerpt(line) + "'");
    fields.clear();
    std::istringstream parts(line);
    for (std::string f; parts >> f;) fields.push_back(f);
    const size_t want = static_cast<size_t>(n) + 1;
    if (fields.size() != want && !(fields.size() == want + 1 && n < lm.order_))
      fail("a " + std::to_string(n) + "-gram line needs a log10 probability, " + std::to_string(n) +
           " words and an optional backoff: '" + Excerpt(line) + "'");
    float prob = 0, backoff = 0;
    if (!ParseFloat(fields[0], &prob) || prob > 0) fail("bad log10 probability in '" + Excerpt(line) + "'");
    if (fields.size() == want + 1 && !ParseFloat(fields[want], &backoff)) fail("bad backoff in '" + Excerpt(line) + "'");
    if (n == 1) {
      const std::string &w = fields[1];
      if (!ids.emplace(w, lm.VocabSize()).second) fail("word '" + Excerpt(w) + "' appears twice");
      lm.AddWord(w);
      lm.orders_[0].probs.push_back(Quantize(prob));
      lm.orders_[0].backoffs.push_back(Quantize(backoff));
    } else {
      Entry e{{}, Quantize(prob), Quantize(backoff)};
      for (int k = 1; k <= n; ++k) {
        auto it = ids.find(fields[k]);
        if (it == ids.end()) fail("word '" + Excerpt(fields[k]) + "' is not among the 1-grams");
        e.ids.push_back(it->second);
      }
      raw[n - 1].push_back(std::move(e));
    }
  } while (++line_no, std::getline(in, line));
  if (!ended) fail("no \\end\\ line (truncated?)");
  if (n != lm.order_) fail("the header lists " + std::to_string(lm.order_) + " orders, the file has " + std::to_string(n));
  check_count();
  if (!ids.count("<unk>")) {
    lm.AddWord("<unk>");
    lm.orders_[0].probs.push_back(Quantize(kMissingUnkLog10));
    lm.orders_[0].backoffs.push_back(0);
  }
  std::unordered_map<std::string, int>().swap(ids);
  const int64_t vocab = lm.VocabSize();
  if (lm.order_ == 1) lm.orders_[0].backoffs.clear();
  // each order sorted by its ids; contexts must exist one order down
  for (int k = 1; k < lm.order_; ++k) {
    auto &entries = raw[k];
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) { return a.ids < b.ids; });
    Order_ &prev = lm.orders_[k - 1];
    Order_ &cur = lm.orders_[k];
    cur.words.wide = vocab > 65536;  // as ToBinary will store them
    const int64_t prev_count = k == 1 ? vocab : static_cast<int64_t>(prev.words.size());
    prev.child.assign(static_cast<size_t>(prev_count) + 1, 0);
    int64_t last_parent = -1;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i && entries[i].ids == entries[i - 1].ids) {
        line_no = 0;
        throw std::invalid_argument(where + ": not a valid ARPA LM (a " + std::to_string(k + 1) + "-gram appears twice)");
      }
      const int64_t parent = lm.Find(entries[i].ids.data(), k - 1);
      if (parent < 0)
        throw std::invalid_argument(where + ": not a valid ARPA LM (the " + std::to_string(k + 1) + "-gram '" +
                                    Excerpt(lm.Word(entries[i].ids[0]) + " ...") + "' has no " +
                                    std::to_string(k) + "-gram for its context)");
      // entries are sorted, so parents come in order: every parent up to this one starts here
      for (int64_t p = last_parent + 1; p <= parent; ++p) prev.child[p] = static_cast<uint32_t>(i);
      last_parent = parent;
      cur.words.push_back(static_cast<uint32_t>(entries[i].ids.back()));
      cur.probs.push_back(entries[i].prob);
      if (k + 1 < lm.order_) cur.backoffs.push_back(entries[i].backoff);
    }
    for (int64_t p = last_parent + 1; p <= prev_count; ++p) prev.child[p] = static_cast<uint32_t>(entries.size());
    std::vector<Entry>().swap(entries);
  }
  if (lm.order_ > 1) {
    Order_ &top = lm.orders_[lm.order_ - 1];
    top.backoffs.clear();
  }
  lm.BuildIndex(where);
  lm.Check(where);
  lm.BuildPrefixBest();  // after Check: it reads the unigram probs
  return lm;
}

void NgramLm::AddWord(std::string_view word) {
  words_.append(word);
  words_.push_back('\0');
  word_end_.push_back(static_cast<uint32_t>(words_.size()));
}

std::string_view NgramLm::Text(int id) const {
  const uint32_t begin = id == 0 ? 0 : word_end_[id - 1];
  return {words_.data() + begin, word_end_[id] - begin - 1};  // without the NUL
}

void NgramLm::BuildIndex(const std::string &where) {
  by_text_.resize(word_end_.size());
  std::iota(by_text_.begin(), by_text_.end(), 0u);
  std::sort(by_text_.begin(), by_text_.end(), [&](uint32_t a, uint32_t b) { return Text(a) < Text(b); });
  const auto twice =
      std::adjacent_find(by_text_.begin(), by_text_.end(), [&](uint32_t a, uint32_t b) { return Text(a) == Text(b); });
  if (twice != by_text_.end())
    throw std::invalid_argument(where + ": corrupt LM (the word '" + Excerpt(std::string(Text(*twice))) +
                                "' appears twice)");
  unk_ = Lookup("<unk>"), begin_ = Lookup("<s>"), end_ = Lookup("</s>");
  if (unk_ < 0 || begin_ < 0 || end_ < 0)
    throw std::invalid_argument(where + ": the LM has no " + std::string(begin_ < 0 ? "<s>" : end_ < 0 ? "</s>" : "<unk>") +
                                " word; it must model sentence starts and ends");
}

void NgramLm::BuildPrefixBest() {
  // leaves at [n, 2n): the words in byte order; node i holds the max of its children 2i, 2i+1
  const size_t n = by_text_.size();
  prefix_best_.assign(2 * n, std::numeric_limits<int16_t>::min());
  for (size_t i = 0; i < n; ++i) {
    const int id = static_cast<int>(by_text_[i]);
    if (id != unk_ && id != begin_ && id != end_ && !orders_.empty()) prefix_best_[n + i] = orders_[0].probs[id];
  }
  for (size_t i = n; i-- > 1;) prefix_best_[i] = std::max(prefix_best_[2 * i], prefix_best_[2 * i + 1]);
}

float NgramLm::PrefixBest(const std::string &prefix) const {
  // the words that start with `prefix` are the run of by_text_ from the first >= prefix
  const size_t n = by_text_.size();
  size_t lo = FirstNotBefore(prefix);
  const size_t hi = std::partition_point(by_text_.begin() + lo, by_text_.end(),
                                         [&](uint32_t id) { return Text(id).substr(0, prefix.size()) == prefix; }) -
                    by_text_.begin();
  int16_t best = std::numeric_limits<int16_t>::min();
  for (size_t l = lo + n, r = hi + n; l < r; l >>= 1, r >>= 1) {
    if (l & 1) best = std::max(best, prefix_best_[l++]);
    if (r & 1) best = std::max(best, prefix_best_[--r]);
  }
  if (best == std::numeric_limits<int16_t>::min()) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(best) / kScale * kLn10;
}

void NgramLm::Check(const std::string &where) const {
  auto bad = [&](const std::string &why) { throw std::invalid_argument(where + ": corrupt LM (" + why + ")"); };
  if (order_ < 1 || order_ > kMaxLmOrder || static_cast<int>(orders_.size()) != order_) bad("bad order");
  const uint64_t vocab = word_end_.size();
  for (int k = 0; k < order_; ++k) {
    const Order_ &o = orders_[k];
    const uint64_t count = k == 0 ? vocab : o.words.size();
    const bool top = k + 1 == order_;
    if (o.probs.size() != count || (k > 0 && o.words.size() != count) || o.backoffs.size() != (top ? 0 : count) ||
        o.child.size() != (top ? 0 : count + 1))
      bad("the " + std::to_string(k + 1) + "-gram arrays disagree in length");
    for (size_t i = 0; i < o.words.size(); ++i)
      if (o.words[i] >= vocab) bad("a word id is past the vocabulary");
    if (top) continue;
    const uint64_t next = orders_[k + 1].words.size();
    if (o.child.front() != 0 || o.child.back() != next) bad("child offsets do not cover the next order");
    for (uint64_t i = 0; i < count; ++i) {
      if (o.child[i] > o.child[i + 1]) bad("child offsets go backwards");
      const auto &words = orders_[k + 1].words;
      for (uint64_t j = o.child[i] + 1; j < o.child[i + 1]; ++j) {
        // an offset past the next order has to come back down before the last: say so here rather
        // than read past the array
        if (j >= next) bad("child offsets go backwards");
        if (words[j - 1] >= words[j]) bad("n-grams of one context are not sorted");
      }
    }
  }
}

std::vector<int64_t> NgramLm::Counts() const {
  std::vector<int64_t> out;
  for (int k = 0; k < order_; ++k) out.push_back(k == 0 ? VocabSize() : static_cast<int64_t>(orders_[k].words.size()));
  return out;
}

std::string NgramLm::ToBinary() const {
  std::string out(kMagic, sizeof(kMagic));
  const uint32_t id_bytes = VocabSize() <= 65536 ? 2 : 4;
  Put<uint32_t>(out, kVersion);
  Put<uint32_t>(out, static_cast<uint32_t>(order_));
  Put<uint32_t>(out, id_bytes);
  for (int64_t c : Counts()) Put<uint32_t>(out, static_cast<uint32_t>(c));
  Put<uint32_t>(out, static_cast<uint32_t>(words_.size()));
  out += words_;
  PadTo4(out);
  for (int k = 0; k < order_; ++k) {
    const Order_ &o = orders_[k];
    if (k > 0) {
      for (size_t i = 0; i < o.words.size(); ++i) {
        if (id_bytes == 4)
          Put<uint32_t>(out, o.words[i]);
        else
          Put<uint16_t>(out, static_cast<uint16_t>(o.words[i]));
      }
      PadTo4(out);
    }
    PutArray(out, o.probs);
    PadTo4(out);
    if (k + 1 < order_) {
      PutArray(out, o.backoffs);
      PadTo4(out);
      PutArray(out, o.child);
    }
  }
  Put<uint32_t>(out, Fnv1a(out.data(), out.size()));
  return out;
}

NgramLm NgramLm::FromBinary(const std::string &bytes, const std::string &where) {
  MemoryBuf buf(bytes);
  std::istream in(&buf);
  return ReadBinary(in, bytes.size(), where);
}

NgramLm NgramLm::ReadBinary(std::istream &in, uint64_t size, const std::string &where) {
  auto bad = [&](const std::string &why) { throw std::invalid_argument(where + ": corrupt LM (" + why + ")"); };
  if (size < sizeof(kMagic) + 4 * 4) bad("too short");
  // the checksum is checked before anything is parsed, in a first pass over the stream
  const uint32_t sum = Fnv1aOf(in, size - 4, where);
  uint32_t stored_sum;
  if (!in.read(reinterpret_cast<char *>(&stored_sum), 4)) ReadFailed(where);
  if (sum != stored_sum) bad("checksum mismatch: damaged or truncated");
  if (!in.seekg(0)) ReadFailed(where);
  Cursor c(in, size, where);
  c.Skip(sizeof(kMagic));
  const uint32_t version = c.Get<uint32_t>();
  if (version != kVersion)
    throw std::invalid_argument(where + ": LM binary version " + std::to_string(version) +
                                " is not supported (this build reads version " + std::to_string(kVersion) + ")");
  NgramLm lm;
  const uint32_t order = c.Get<uint32_t>();
  const uint32_t id_bytes = c.Get<uint32_t>();
  if (order < 1 || order > static_cast<uint32_t>(kMaxLmOrder)) bad("order " + std::to_string(order));
  if (id_bytes != 2 && id_bytes != 4) bad("id width " + std::to_string(id_bytes));
  lm.order_ = static_cast<int>(order);
  std::vector<uint32_t> counts(order);
  for (auto &n : counts) n = c.Get<uint32_t>();
  if (counts[0] < 1 || (id_bytes == 2 && counts[0] > 65536)) bad("vocabulary size " + std::to_string(counts[0]));
  const uint32_t vocab_bytes = c.Get<uint32_t>();
  lm.words_ = c.Bytes(vocab_bytes);  // kept as it is: the words NUL-terminated in id order
  if (!lm.words_.empty() && lm.words_.back() != '\0') bad("vocabulary not NUL-terminated");
  lm.word_end_.reserve(std::min(counts[0], vocab_bytes));  // every word has at least its NUL
  for (uint32_t at = 0; at < vocab_bytes; ++at)
    if (lm.words_[at] == '\0') lm.word_end_.push_back(at + 1);
  if (lm.word_end_.size() != counts[0])
    bad("the vocabulary has " + std::to_string(lm.word_end_.size()) + " words, the header " +
        std::to_string(counts[0]));
  c.Align();
  lm.orders_.resize(order);
  for (uint32_t k = 0; k < order; ++k) {
    Order_ &o = lm.orders_[k];
    if (k > 0) {
      o.words.wide = id_bytes == 4;
      if (o.words.wide)
        o.words.full = c.Array<uint32_t>(counts[k]);
      else
        o.words.narrow = c.Array<uint16_t>(counts[k]);
      c.Align();
    }
    o.probs = c.Array<int16_t>(counts[k]);
    c.Align();
    if (k + 1 < order) {
      o.backoffs = c.Array<int16_t>(counts[k]);
      c.Align();
      o.child = c.Array<uint32_t>(static_cast<uint64_t>(counts[k]) + 1);
    }
  }
  if (c.At() + 4 != size) bad("unexpected bytes after the last section");
  lm.BuildIndex(where);
  lm.Check(where);
  lm.BuildPrefixBest();  // after Check: it reads the unigram probs
  return lm;
}

void NgramLm::Save(const std::string &path) const {
  const std::string bytes = ToBinary();
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::invalid_argument(path + ": cannot write the LM (" + std::strerror(errno) + ")");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw std::invalid_argument(path + ": writing the LM failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::invalid_argument(path + ": cannot replace the LM (" + std::strerror(errno) + ")");
  }
}

std::string NgramLm::Word(int id) const {
  if (id < 0 || id >= VocabSize()) throw std::out_of_range("NgramLm::Word: id " + std::to_string(id));
  return std::string(Text(id));
}

size_t NgramLm::FirstNotBefore(std::string_view text) const {
  return std::lower_bound(by_text_.begin(), by_text_.end(), text,
                          [&](uint32_t id, std::string_view t) { return Text(id) < t; }) -
         by_text_.begin();
}

int NgramLm::Lookup(std::string_view word) const {
  const size_t i = FirstNotBefore(word);
  return i < by_text_.size() && Text(by_text_[i]) == word ? static_cast<int>(by_text_[i]) : -1;
}

int NgramLm::WordId(const std::string &word) const {
  const int id = Lookup(word);
  return id < 0 ? unk_ : id;
}

bool NgramLm::IsPrefix(const std::string &prefix) const {
  // the words in byte order from the first >= prefix: those that start with it are next, and at
  // most the three specials among them are passed over
  for (size_t i = FirstNotBefore(prefix); i < by_text_.size() && Text(by_text_[i]).substr(0, prefix.size()) == prefix;
       ++i) {
    const int id = static_cast<int>(by_text_[i]);
    if (id != unk_ && id != begin_ && id != end_) return true;
  }
  return false;
}

LmState NgramLm::BeginState() const {
  LmState s;
  if (order_ > 1) s.words[0] = begin_, s.length = 1;
  return s;
}

void NgramLm::Ids::push_back(uint32_t id) {
  if (wide)
    full.push_back(id);
  else
    narrow.push_back(static_cast<uint16_t>(id));
}

int64_t NgramLm::Ids::Find(size_t first, size_t last, uint32_t id) const {
  return wide ? FindSorted(full, first, last, id) : FindSorted(narrow, first, last, id);
}

int64_t NgramLm::Find(const int *ids, int n) const {
  if (ids[0] < 0 || ids[0] >= VocabSize()) return -1;
  int64_t at = ids[0];
  for (int k = 1; k <= n && at >= 0; ++k) {
    const Order_ &parent = orders_[k - 1];
    at = orders_[k].words.Find(parent.child[at], parent.child[at + 1], static_cast<uint32_t>(ids[k]));
  }
  return at;
}

float NgramLm::Score(const LmState &state, int word, LmState *next) const {
  if (word < 0 || word >= VocabSize()) word = unk_;
  int ids[kMaxLmOrder];
  const int len = std::min(state.length, order_ - 1);
  const int *ctx = state.words + (state.length - len);
  int32_t total = 0;  // log10 x 1000: the stored integers sum exactly
  for (int m = len; m >= 0; --m) {
    std::copy(ctx + (len - m), ctx + len, ids);
    ids[m] = word;
    const int64_t hit = Find(ids, m);
    if (hit >= 0) {
      total += orders_[m].probs[hit];
      break;
    }
    if (m == 0) break;  // unreachable: every word id has a unigram
    const int64_t context = Find(ids, m - 1);  // the m context words alone
    if (context >= 0) total += orders_[m - 1].backoffs[context];
  }
  if (next) {
    LmState s;
    const int keep = std::min(len + 1, order_ - 1);
    for (int i = 0; i < keep; ++i) s.words[i] = i < keep - 1 ? ctx[len - (keep - 1) + i] : word;
    s.length = std::max(keep, 0);
    *next = s;
  }
  return static_cast<float>(total) / kScale * kLn10;
}

}  // namespace mt2kd
