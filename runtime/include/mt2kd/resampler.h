// Streaming band-limited resampling (windowed sinc, polyphase), e.g. 48 kHz or 44.1 kHz
// microphones into the model's 16 kHz. Output does not depend on how the input is split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mt2kd {

class Resampler {
 public:
  // zero_crossings sets the filter length (quality); the cutoff is 0.95 x the lower Nyquist.
  // Throws std::invalid_argument for a rate outside kMinSampleRate-kMaxSampleRate (model_info.h)
  // or a filter bank over its memory bound.
  Resampler(int in_rate, int out_rate, int zero_crossings = 8);
  void Accept(const float *x, size_t n, std::vector<float> *out);
  void Flush(std::vector<float> *out);  // the input ended: zero-pad to release the tail
  void Reset();
  int InRate() const { return in_rate_; }
  int OutRate() const { return out_rate_; }

 private:
  void Produce(std::vector<float> *out, bool flushing);

  int in_rate_, out_rate_;
  int64_t up_, down_;  // out/in = up/down in lowest terms
  int half_taps_;      // taps on each side of the centre
  std::vector<std::vector<float>> phases_;  // up_ filters of 2*half_taps_ taps
  std::vector<float> buffer_;               // input samples from absolute index buffer_start_
  int64_t buffer_start_ = 0;
  int64_t next_output_ = 0;
  int64_t input_total_ = 0;
};

}  // namespace mt2kd
