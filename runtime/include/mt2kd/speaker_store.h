// Enrolled speakers: enroll, identify, verify, list, remove; persisted as JSON (no pickle),
// written atomically. A corrupt or foreign file raises and is never overwritten.
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
  // its unit-normalised embeddings. Throws on a wrong dimension, NaN or an all-zero embedding.
  void Enroll(const std::string &name, const std::vector<float> &embedding);
  SpeakerMatch Identify(const std::vector<float> &embedding, float threshold) const;
  Verification Verify(const std::string &name, const std::vector<float> &embedding, float threshold) const;
  bool Remove(const std::string &name);
  std::vector<std::string> Names() const;
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

// Writes `data` to `path` atomically (temp file in the same directory, fsync, rename).
void AtomicWriteFile(const std::string &path, const std::string &data);

}  // namespace mt2kd
