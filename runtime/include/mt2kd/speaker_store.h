// Enrolled speakers: enroll, identify, verify, list, remove; persisted as JSON (no pickle),
// written atomically with the file's mode kept (new stores are 0600: voiceprints are personal
// data). A corrupt or foreign file raises and is never overwritten. Several writers sharing one
// file must serialise their read-modify-write (the Python SpeakerStore.editing does, with a lock).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace mt2kd {

struct SpeakerMatch {
  std::string name;  // empty when no enrolled speaker scores at or above the threshold
  float score;       // cosine similarity with the best enrolled speaker (-1 if none)
};

struct Verification {
  std::string name;
  float score;
  bool accepted;
};

class SpeakerStore {
 public:
  explicit SpeakerStore(int embedding_dim);

  // Adds utterance embeddings to `name` (created if new); the enrolled voice is the mean of all
  // its unit-normalised embeddings. Throws on a wrong dimension, NaN or an all-zero embedding,
  // or a name that SpeakerNameProblem refuses.
  void Enroll(const std::string &name, const std::vector<float> &embedding);
  SpeakerMatch Identify(const std::vector<float> &embedding, float threshold) const;
  Verification Verify(const std::string &name, const std::vector<float> &embedding, float threshold) const;
  bool Remove(const std::string &name);
  std::vector<std::string> Names() const;
  int NumSpeakers() const { return static_cast<int>(speakers_.size()); }
  int NumUtterances(const std::string &name) const;
  int EmbeddingDim() const { return dim_; }

  void Save(const std::string &path) const;  // atomic: temp file + fsync + rename
  static SpeakerStore Load(const std::string &path);

 private:
  struct Entry {
    std::vector<double> sum;  // of unit-normalised embeddings
    int count = 0;
  };
  std::vector<float> Normalised(const std::vector<float> &embedding) const;
  float Score(const Entry &e, const std::vector<float> &unit) const;

  int dim_;
  std::map<std::string, Entry> speakers_;
};

// Why `name` cannot name a speaker, or "" if it can: 1-256 bytes of valid UTF-8 without control
// characters (a tab or newline would break every line-oriented listing of the store).
std::string SpeakerNameProblem(const std::string &name);
// `name` quoted for a message, with control characters and bytes that are not UTF-8 escaped.
std::string QuotedName(const std::string &name);

// Writes `data` to `path` atomically (a temp file in the same directory, fsync, rename). The new
// file keeps the mode (and, where allowed, the owner) of the one it replaces; a new file gets
// `new_mode`. Temp files of this path that a killed writer left behind are removed first.
void AtomicWriteFile(const std::string &path, const std::string &data, unsigned new_mode = 0600);

}  // namespace mt2kd
