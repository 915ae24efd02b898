#include "mt2kd/speaker_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace mt2kd {

namespace {
constexpr const char *kFormat = "mt2kd-edge-speakers";
constexpr int kVersion = 1;
}  // namespace

namespace {

constexpr size_t kMaxNameBytes = 256;

// The bytes of a valid UTF-8 sequence starting at s[i], or 0 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF).
size_t Utf8Length(const std::string &s, size_t i) {
  const auto c = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = c(i);
  if (b < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) n = 2;
  else if (b >= 0xE0 && b <= 0xEF) n = 3, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
  else if (b >= 0xF0 && b <= 0xF4) n = 4, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + n > s.size() || c(i + 1) < lo || c(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (c(i + k) < 0x80 || c(i + k) > 0xBF) return 0;
  return n;
}

bool IsControl(const std::string &s, size_t i, size_t n) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (n == 1) return b < 0x20 || b == 0x7F;
  return n == 2 && b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;  // C1 controls U+0080-U+009F
}

// The PID in "NAME.tmp-PID" or "NAME.tmp-PID-N", or -1 if `entry` is not a temp file of NAME.
long TempFilePid(const std::string &entry, const std::string &name) {
  const std::string prefix = name + ".tmp-";
  if (entry.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string rest = entry.substr(prefix.size());
  const size_t end = rest.find_first_not_of("0123456789");
  const size_t digits = end == std::string::npos ? rest.size() : end;
  if (digits == 0 || digits > 9) return -1;
  if (end != std::string::npos &&
      (rest[end] != '-' || end + 1 == rest.size() || rest.find_first_not_of("0123456789", end + 1) != std::string::npos))
    return -1;
  return std::stol(rest.substr(0, digits));
}

// Removes NAME.tmp-PID* files in `dir` whose writer no longer runs (kill -9 mid-write leaves them).
void RemoveStaleTempFiles(const std::string &dir, const std::string &name) {
  DIR *d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent *e = ::readdir(d)) {
    const long pid = TempFilePid(e->d_name, name);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink((dir + "/" + e->d_name).c_str());
  }
  ::closedir(d);
}

}  // namespace

std::string SpeakerNameProblem(const std::string &name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxNameBytes) return "is longer than " + std::to_string(kMaxNameBytes) + " bytes";
  for (size_t i = 0; i < name.size();) {
    const size_t n = Utf8Length(name, i);
    if (!n) return "is not valid UTF-8";
    if (IsControl(name, i, n)) return "contains a control character (tab, newline, ...)";
    i += n;
  }
  return "";
}

std::string QuotedName(const std::string &name) {
  std::string out = "'";
  char hex[8];
  for (size_t i = 0; i < name.size() && i < kMaxNameBytes;) {
    const size_t n = Utf8Length(name, i);
    if (n && !IsControl(name, i, n)) {
      out.append(name, i, n);
      i += n;
    } else {
      std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(name[i++]));
      out += hex;
    }
  }
  return out + (name.size() > kMaxNameBytes ? "...'" : "'");
}

void AtomicWriteFile(const std::string &path, const std::string &data, unsigned new_mode) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  RemoveStaleTempFiles(dir, slash == std::string::npos ? path : path.substr(slash + 1));
  // PID and a counter: two threads of one process writing the same path get different temp files.
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) throw std::runtime_error(path + ": cannot write (" + std::strerror(errno) + ")");
  auto fail = [&](const char *what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": " + what + " (" + std::strerror(err) + ")");
  };
  // The replacement keeps the old file's permissions: a private store must not become readable
  // by every user because it was rewritten.
  struct stat old;
  if (::stat(path.c_str(), &old) == 0) {
    if (::fchown(fd, old.st_uid, old.st_gid) != 0) {
      // not allowed to give the file away (not root): it stays ours, with the old mode
    }
    if (::fchmod(fd, old.st_mode & 07777) != 0) fail("cannot set the file mode");
  } else if (::fchmod(fd, new_mode) != 0) {
    fail("cannot set the file mode");
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) fail("write failed");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("could not be written atomically");
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": could not be written atomically (" + std::strerror(err) + ")");
  }
}

SpeakerStore::SpeakerStore(int embedding_dim) : dim_(embedding_dim) {
  if (dim_ <= 0) throw std::invalid_argument("embedding_dim must be positive");
}

std::vector<float> SpeakerStore::Normalised(const std::vector<float> &e) const {
  if (static_cast<int>(e.size()) != dim_)
    throw std::invalid_argument("embedding has " + std::to_string(e.size()) + " values; this store holds " +
                                std::to_string(dim_) + "-d embeddings");
  double norm = 0;
  for (float x : e) {
    if (!std::isfinite(x)) throw std::invalid_argument("embedding contains NaN or Inf");
    norm += static_cast<double>(x) * x;
  }
  if (norm <= 0) throw std::invalid_argument("embedding is all zeros");
  std::vector<float> out(e.size());
  const double inv = 1.0 / std::sqrt(norm);
  for (size_t i = 0; i < e.size(); ++i) out[i] = static_cast<float>(e[i] * inv);
  return out;
}

void SpeakerStore::Enroll(const std::string &name, const std::vector<float> &embedding) {
  const std::string problem = SpeakerNameProblem(name);
  if (!problem.empty()) throw std::invalid_argument("speaker name " + QuotedName(name) + " " + problem);
  const auto unit = Normalised(embedding);
  Entry &e = speakers_[name];
  if (e.sum.empty()) e.sum.assign(dim_, 0.0);
  for (int i = 0; i < dim_; ++i) e.sum[i] += unit[i];
  e.count += 1;
}

float SpeakerStore::Score(const Entry &e, const std::vector<float> &unit) const {
  double dot = 0, norm = 0;
  for (int i = 0; i < dim_; ++i) dot += e.sum[i] * unit[i], norm += e.sum[i] * e.sum[i];
  return norm > 0 ? static_cast<float>(dot / std::sqrt(norm)) : -1.0f;
}

SpeakerMatch SpeakerStore::Identify(const std::vector<float> &embedding, float threshold) const {
  const auto unit = Normalised(embedding);
  SpeakerMatch best{"", -1.0f};
  for (const auto &[name, e] : speakers_) {
    const float s = Score(e, unit);
    if (s > best.score) best = {name, s};
  }
  if (best.score < threshold) best.name.clear();
  return best;
}

Verification SpeakerStore::Verify(const std::string &name, const std::vector<float> &embedding, float threshold) const {
  auto it = speakers_.find(name);
  if (it == speakers_.end()) throw std::invalid_argument("unknown speaker '" + name + "'");
  const float s = Score(it->second, Normalised(embedding));
  return {name, s, s >= threshold};
}

bool SpeakerStore::Remove(const std::string &name) { return speakers_.erase(name) > 0; }

std::vector<std::string> SpeakerStore::Names() const {
  std::vector<std::string> out;
  for (const auto &kv : speakers_) out.push_back(kv.first);
  return out;
}

int SpeakerStore::NumUtterances(const std::string &name) const {
  auto it = speakers_.find(name);
  if (it == speakers_.end()) throw std::invalid_argument("unknown speaker '" + name + "'");
  return it->second.count;
}

void SpeakerStore::Save(const std::string &path) const {
  nlohmann::json doc = {{"format", kFormat}, {"version", kVersion}, {"embedding_dim", dim_}};
  nlohmann::json list = nlohmann::json::array();
  for (const auto &[name, e] : speakers_) list.push_back({{"name", name}, {"utterances", e.count}, {"sum", e.sum}});
  doc["speakers"] = list;
  AtomicWriteFile(path, doc.dump(1) + "\n");
}

SpeakerStore SpeakerStore::Load(const std::string &path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": speaker store not found");
  std::stringstream buf;
  buf << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(buf.str());
  } catch (const std::exception &) {
    throw std::invalid_argument(path + ": corrupt speaker store (not valid JSON); it was left untouched");
  }
  if (!doc.is_object() || doc.value("format", nlohmann::json()) != kFormat)
    throw std::invalid_argument(path + ": not an mt2kd-edge speaker store; it was left untouched");
  if (doc.value("version", nlohmann::json()) != kVersion)
    throw std::invalid_argument(path + ": speaker store version " + QuotedName(doc.value("version", nlohmann::json()).dump()) +
                                " is not supported");
  try {
    SpeakerStore store(doc.at("embedding_dim").get<int>());
    for (const auto &s : doc.at("speakers")) {
      Entry e;
      const auto name = s.at("name").get<std::string>();
      const std::string problem = SpeakerNameProblem(name);
      if (!problem.empty()) throw std::invalid_argument("speaker name " + QuotedName(name) + " " + problem);
      e.sum = s.at("sum").get<std::vector<double>>();
      const auto &count = s.at("utterances");
      e.count = count.is_number_integer() && count.get<int64_t>() >= 1 && count.get<int64_t>() <= INT32_MAX
                    ? count.get<int>()
                    : 0;
      double norm = 0;
      for (double x : e.sum) norm += std::isfinite(x) ? x * x : NAN;
      if (static_cast<int>(e.sum.size()) != store.dim_ || e.count < 1 || !std::isfinite(norm) || norm <= 0)
        throw std::invalid_argument("bad entry for " + QuotedName(name));
      if (store.speakers_.count(name)) throw std::invalid_argument(QuotedName(name) + " appears twice");
      store.speakers_[name] = std::move(e);
    }
    return store;
  } catch (const std::exception &e) {
    throw std::invalid_argument(path + ": corrupt speaker store (" + e.what() + "); it was left untouched");
  }
}

}  // namespace mt2kd
