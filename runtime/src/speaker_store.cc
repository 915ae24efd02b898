#include "mt2kd/speaker_store.h"

#include <fcntl.h>
#include <unistd.h>

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

void AtomicWriteFile(const std::string &path, const std::string &data) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": cannot write (" + std::strerror(errno) + ")");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error(path + ": write failed (" + std::strerror(errno) + ")");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": could not be written atomically (" + std::strerror(errno) + ")");
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
  if (name.empty()) throw std::invalid_argument("speaker name must not be empty");
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
  if (!doc.is_object() || doc.value("format", std::string()) != kFormat)
    throw std::invalid_argument(path + ": not an mt2kd-edge speaker store; it was left untouched");
  if (doc.value("version", -1) != kVersion)
    throw std::invalid_argument(path + ": speaker store version " + doc.value("version", nlohmann::json()).dump() +
                                " is not supported");
  try {
    SpeakerStore store(doc.at("embedding_dim").get<int>());
    for (const auto &s : doc.at("speakers")) {
      Entry e;
      e.sum = s.at("sum").get<std::vector<double>>();
      e.count = s.at("utterances").get<int>();
      if (static_cast<int>(e.sum.size()) != store.dim_ || e.count < 1)
        throw std::invalid_argument("bad entry for " + s.at("name").get<std::string>());
      store.speakers_[s.at("name").get<std::string>()] = std::move(e);
    }
    return store;
  } catch (const std::exception &e) {
    throw std::invalid_argument(path + ": corrupt speaker store (" + e.what() + "); it was left untouched");
  }
}

}  // namespace mt2kd
