// Streaming CTC decoding: greedy, or prefix beam search; BPE detokenisation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mt2kd {

struct DecodedToken {
  int id;
  int64_t frame;  // encoder frame (stream-global) where the token was first emitted
};

// Prefix beam search costs beam_size x tokens_per_frame prefix copies per frame; past a few dozen
// beams it gains nothing and a typo (100000) would run for minutes on seconds of audio.
inline constexpr int kMaxBeamSize = 64;

struct DecodingConfig {
  int beam_size = 1;          // 1: greedy best path; 2..kMaxBeamSize: CTC prefix beam search
  int tokens_per_frame = 8;   // beam search expands only this many best tokens per frame
  void Validate() const;
};

class CtcDecoder {
 public:
  CtcDecoder(const DecodingConfig &config, int blank_id = 0);
  // log_probs: num_frames x vocab, row-major; first_frame: global index of row 0.
  void Accept(const float *log_probs, int num_frames, int vocab, int64_t first_frame);
  std::vector<DecodedToken> Best() const;
  void Reset();

 private:
  struct Hyp {
    float log_blank;     // log P(prefix, ending in blank)
    float log_nonblank;  // log P(prefix, ending in its last token)
    std::vector<int64_t> frames;
  };
  void AcceptGreedy(const float *row, int vocab, int64_t frame);
  void AcceptBeam(const float *row, int vocab, int64_t frame);

  DecodingConfig config_;
  int blank_;
  // greedy state
  std::vector<DecodedToken> greedy_;
  int previous_ = -1;
  // beam state
  std::map<std::vector<int>, Hyp> beams_;
};

// Joins BPE pieces: "▁" starts a word. Leading/trailing spaces are trimmed.
std::string Detokenize(const std::vector<std::string> &pieces);

}  // namespace mt2kd
