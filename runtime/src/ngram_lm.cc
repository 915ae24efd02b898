#include "mt2kd/ngram_lm.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>

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

uint32_t Fnv1a(const char *data, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 16777619u;
  return h;
}

std::string ReadFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument(path + ": LM file not found or unreadable (" + std::strerror(errno) + ")");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) throw std::invalid_argument(path + ": LM file is unreadable");
  if (size > kMaxLmBytes)
    throw std::invalid_argument(path + ": LM file is " + std::to_string(size) + " bytes; the limit is " +
                                std::to_string(kMaxLmBytes));
  std::string bytes(static_cast<size_t>(size), '\0');
  f.seekg(0);
  f.read(bytes.data(), size);
  if (f.gcount() != size) throw std::invalid_argument(path + ": LM file could not be read whole");
  return bytes;
}

// Little-endian reader over a byte string that refuses to read past the end.
class Cursor {
 public:
  Cursor(const std::string &b, const std::string &where) : b_(b), where_(where) {}
  template <typename T>
  T Get() {
    T v;
    Need(sizeof(T));
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  template <typename T>
  std::vector<T> Array(uint64_t n) {
    if (n > (b_.size() - at_) / sizeof(T)) Fail();
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), b_.data() + at_, n * sizeof(T));
    at_ += n * sizeof(T);
    return v;
  }
  std::vector<uint32_t> Ids(uint64_t n, uint32_t id_bytes) {
    if (id_bytes == 4) return Array<uint32_t>(n);
    auto narrow = Array<uint16_t>(n);
    return std::vector<uint32_t>(narrow.begin(), narrow.end());
  }
  void Align() {
    while (at_ % 4) {
      Need(1);
      ++at_;
    }
  }
  const char *Here() const { return b_.data() + at_; }
  void Skip(size_t n) {
    Need(n);
    at_ += n;
  }
  size_t At() const { return at_; }

 private:
  void Need(size_t n) const {
    if (n > b_.size() - at_) Fail();
  }
  [[noreturn]] void Fail() const { throw std::invalid_argument(where_ + ": LM file is truncated (corrupt?)"); }
  const std::string &b_;
  const std::string &where_;
  size_t at_ = 0;
};

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
  const std::string bytes = ReadFile(path);
  if (bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0)
    return std::make_shared<const NgramLm>(FromBinary(bytes, path));
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b)
    throw std::invalid_argument(path + ": LM file is gzip-compressed; gunzip it first (or compile it with "
                                "`python -m train.lm compile`)");
  return std::make_shared<const NgramLm>(FromArpa(bytes, path));
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
  int n = 0;  // the section being read (1-based), 0 before the first
  auto header_of = [](int k) { return "\\" + std::to_string(k) + "-grams:"; };
  bool ended = false;
  std::vector<std::string> fields;
  auto check_count = [&] {  // the section just read against the header
    const int64_t got = n == 1 ? static_cast<int64_t>(lm.vocab_.size()) : static_cast<int64_t>(raw[n - 1].size());
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
      if (!lm.index_.emplace(w, static_cast<int>(lm.vocab_.size())).second) fail("word '" + Excerpt(w) + "' appears twice");
      lm.vocab_.push_back(w);
      lm.orders_[0].probs.push_back(Quantize(prob));
      lm.orders_[0].backoffs.push_back(Quantize(backoff));
    } else {
      Entry e{{}, Quantize(prob), Quantize(backoff)};
      for (int k = 1; k <= n; ++k) {
        auto it = lm.index_.find(fields[k]);
        if (it == lm.index_.end()) fail("word '" + Excerpt(fields[k]) + "' is not among the 1-grams");
        e.ids.push_back(it->second);
      }
      raw[n - 1].push_back(std::move(e));
    }
  } while (++line_no, std::getline(in, line));
  if (!ended) fail("no \\end\\ line (truncated?)");
  if (n != lm.order_) fail("the header lists " + std::to_string(lm.order_) + " orders, the file has " + std::to_string(n));
  check_count();
  if (!lm.index_.count("<unk>")) {
    lm.index_.emplace("<unk>", static_cast<int>(lm.vocab_.size()));
    lm.vocab_.push_back("<unk>");
    lm.orders_[0].probs.push_back(Quantize(kMissingUnkLog10));
    lm.orders_[0].backoffs.push_back(0);
  }
  const int64_t vocab = static_cast<int64_t>(lm.vocab_.size());
  if (lm.order_ == 1) lm.orders_[0].backoffs.clear();
  // each order sorted by its ids; contexts must exist one order down
  for (int k = 1; k < lm.order_; ++k) {
    auto &entries = raw[k];
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) { return a.ids < b.ids; });
    Order_ &prev = lm.orders_[k - 1];
    Order_ &cur = lm.orders_[k];
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
                                    Excerpt(lm.vocab_[entries[i].ids[0]] + " ...") + "' has no " +
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
  return lm;
}

void NgramLm::BuildIndex(const std::string &where) {
  if (index_.empty())
    for (size_t i = 0; i < vocab_.size(); ++i)
      if (!index_.emplace(vocab_[i], static_cast<int>(i)).second)
        throw std::invalid_argument(where + ": corrupt LM (the word '" + Excerpt(vocab_[i]) + "' appears twice)");
  auto id = [&](const char *w) {
    auto it = index_.find(w);
    return it == index_.end() ? -1 : it->second;
  };
  unk_ = id("<unk>"), begin_ = id("<s>"), end_ = id("</s>");
  sorted_.clear();
  for (const auto &w : vocab_)
    if (w != "<unk>" && w != "<s>" && w != "</s>") sorted_.push_back(w);
  std::sort(sorted_.begin(), sorted_.end());
  if (unk_ < 0 || begin_ < 0 || end_ < 0)
    throw std::invalid_argument(where + ": the LM has no " + std::string(begin_ < 0 ? "<s>" : end_ < 0 ? "</s>" : "<unk>") +
                                " word; it must model sentence starts and ends");
}

void NgramLm::Check(const std::string &where) const {
  auto bad = [&](const std::string &why) { throw std::invalid_argument(where + ": corrupt LM (" + why + ")"); };
  if (order_ < 1 || order_ > kMaxLmOrder || static_cast<int>(orders_.size()) != order_) bad("bad order");
  const uint64_t vocab = vocab_.size();
  for (int k = 0; k < order_; ++k) {
    const Order_ &o = orders_[k];
    const uint64_t count = k == 0 ? vocab : o.words.size();
    const bool top = k + 1 == order_;
    if (o.probs.size() != count || (k > 0 && o.words.size() != count) || o.backoffs.size() != (top ? 0 : count) ||
        o.child.size() != (top ? 0 : count + 1))
      bad("the " + std::to_string(k + 1) + "-gram arrays disagree in length");
    for (uint32_t w : o.words)
      if (w >= vocab) bad("a word id is past the vocabulary");
    if (top) continue;
    const uint64_t next = orders_[k + 1].words.size();
    if (o.child.front() != 0 || o.child.back() != next) bad("child offsets do not cover the next order");
    for (uint64_t i = 0; i < count; ++i) {
      if (o.child[i] > o.child[i + 1]) bad("child offsets go backwards");
      const auto &words = orders_[k + 1].words;
      for (uint64_t j = o.child[i] + 1; j < o.child[i + 1]; ++j)
        if (words[j - 1] >= words[j]) bad("n-grams of one context are not sorted");
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
  const uint32_t id_bytes = vocab_.size() <= 65536 ? 2 : 4;
  Put<uint32_t>(out, kVersion);
  Put<uint32_t>(out, static_cast<uint32_t>(order_));
  Put<uint32_t>(out, id_bytes);
  for (int64_t c : Counts()) Put<uint32_t>(out, static_cast<uint32_t>(c));
  std::string words;
  for (const auto &w : vocab_) words += w + '\0';
  Put<uint32_t>(out, static_cast<uint32_t>(words.size()));
  out += words;
  PadTo4(out);
  for (int k = 0; k < order_; ++k) {
    const Order_ &o = orders_[k];
    if (k > 0) {
      if (id_bytes == 4) {
        PutArray(out, o.words);
      } else {
        for (uint32_t w : o.words) Put<uint16_t>(out, static_cast<uint16_t>(w));
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
  auto bad = [&](const std::string &why) { throw std::invalid_argument(where + ": corrupt LM (" + why + ")"); };
  if (bytes.size() < sizeof(kMagic) + 4 * 4) bad("too short");
  uint32_t stored_sum;
  std::memcpy(&stored_sum, bytes.data() + bytes.size() - 4, 4);
  if (Fnv1a(bytes.data(), bytes.size() - 4) != stored_sum) bad("checksum mismatch: damaged or truncated");
  Cursor c(bytes, where);
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
  const char *text = c.Here();
  c.Skip(vocab_bytes);
  for (uint32_t at = 0; at < vocab_bytes;) {
    const void *nul = std::memchr(text + at, '\0', vocab_bytes - at);
    if (!nul) bad("vocabulary not NUL-terminated");
    const uint32_t len = static_cast<uint32_t>(static_cast<const char *>(nul) - (text + at));
    lm.vocab_.emplace_back(text + at, len);
    at += len + 1;
  }
  if (lm.vocab_.size() != counts[0]) bad("the vocabulary has " + std::to_string(lm.vocab_.size()) + " words, the header " +
                                         std::to_string(counts[0]));
  c.Align();
  lm.orders_.resize(order);
  for (uint32_t k = 0; k < order; ++k) {
    Order_ &o = lm.orders_[k];
    if (k > 0) {
      o.words = c.Ids(counts[k], id_bytes);
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
  if (c.At() + 4 != bytes.size()) bad("unexpected bytes after the last section");
  lm.BuildIndex(where);
  lm.Check(where);
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

int NgramLm::WordId(const std::string &word) const {
  auto it = index_.find(word);
  return it == index_.end() ? unk_ : it->second;
}

bool NgramLm::IsPrefix(const std::string &prefix) const {
  const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), prefix);
  return it != sorted_.end() && it->compare(0, prefix.size(), prefix) == 0;
}

LmState NgramLm::BeginState() const {
  LmState s;
  if (order_ > 1) s.words[0] = begin_, s.length = 1;
  return s;
}

int64_t NgramLm::Find(const int *ids, int n) const {
  if (ids[0] < 0 || ids[0] >= VocabSize()) return -1;
  int64_t at = ids[0];
  for (int k = 1; k <= n; ++k) {
    const Order_ &parent = orders_[k - 1];
    const auto &words = orders_[k].words;
    const auto first = words.begin() + parent.child[at], last = words.begin() + parent.child[at + 1];
    const auto it = std::lower_bound(first, last, static_cast<uint32_t>(ids[k]));
    if (it == last || *it != static_cast<uint32_t>(ids[k])) return -1;
    at = it - words.begin();
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
