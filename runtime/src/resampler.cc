#include "mt2kd/resampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "mt2kd/model_info.h"

namespace mt2kd {

namespace {
// The filter bank has up x 2 half_taps floats. Every pair of rates in the supported range fits
// (the worst, two nearby rates with no common factor, needs about 3.5 M); a bound keeps a bogus
// rate (2^31 - 1 Hz from a broken WAV header wanted 10^11 taps) from exhausting memory.
constexpr int64_t kMaxFilterTaps = int64_t{1} << 22;
constexpr int kMaxZeroCrossings = 64;
}  // namespace

Resampler::Resampler(int in_rate, int out_rate, int zero_crossings) : in_rate_(in_rate), out_rate_(out_rate) {
  for (int rate : {in_rate, out_rate})
    if (rate < kMinSampleRate || rate > kMaxSampleRate)
      throw std::invalid_argument("sample rate " + std::to_string(rate) + " Hz is outside the supported " +
                                  std::to_string(kMinSampleRate) + "-" + std::to_string(kMaxSampleRate) + " Hz");
  if (zero_crossings < 1 || zero_crossings > kMaxZeroCrossings)
    throw std::invalid_argument("zero_crossings must be in 1-" + std::to_string(kMaxZeroCrossings));
  const int64_t g = std::gcd(static_cast<int64_t>(in_rate), static_cast<int64_t>(out_rate));
  up_ = out_rate / g;
  down_ = in_rate / g;
  // cutoff in cycles per input sample: 0.95 of the lower Nyquist frequency
  const double cutoff = 0.5 * 0.95 * std::min(1.0, static_cast<double>(out_rate) / in_rate);
  const double half_width = zero_crossings / (2.0 * cutoff);  // in input samples
  half_taps_ = static_cast<int>(std::ceil(half_width));
  if (up_ * 2 * half_taps_ > kMaxFilterTaps)
    throw std::invalid_argument("resampling " + std::to_string(in_rate) + " Hz to " + std::to_string(out_rate) +
                                " Hz needs a filter bank of " + std::to_string(up_ * 2 * half_taps_) +
                                " taps, over the limit of " + std::to_string(kMaxFilterTaps));
  phases_.assign(up_, std::vector<float>(2 * half_taps_));
  for (int64_t p = 0; p < up_; ++p) {
    const double frac = static_cast<double>(p) / up_;  // output position past the base input sample
    for (int k = 0; k < 2 * half_taps_; ++k) {
      const double t = (k - half_taps_ + 1) - frac;  // input offset relative to the exact position
      const double x = 2.0 * cutoff * t;
      const double sinc = std::fabs(x) < 1e-12 ? 1.0 : std::sin(M_PI * x) / (M_PI * x);
      const double w = std::fabs(t) >= half_width ? 0.0 : 0.5 + 0.5 * std::cos(M_PI * t / half_width);  // Hann
      phases_[p][k] = static_cast<float>(2.0 * cutoff * sinc * w);
    }
  }
}

void Resampler::Reset() {
  buffer_.clear();
  buffer_start_ = next_output_ = input_total_ = 0;
}

void Resampler::Accept(const float *x, size_t n, std::vector<float> *out) {
  buffer_.insert(buffer_.end(), x, x + n);
  input_total_ += static_cast<int64_t>(n);
  Produce(out, false);
}

void Resampler::Flush(std::vector<float> *out) {
  buffer_.insert(buffer_.end(), half_taps_ + 1, 0.0f);  // silence after the end
  Produce(out, true);
}

void Resampler::Produce(std::vector<float> *out, bool flushing) {
  const int64_t buffer_end = buffer_start_ + static_cast<int64_t>(buffer_.size());
  const int64_t outputs_total = (input_total_ * up_ + down_ - 1) / down_;  // ceil(in * out / in_rate)
  while (true) {
    const int64_t pos = next_output_ * down_;  // exact input position x up_
    const int64_t base = pos / up_;
    const int64_t phase = pos % up_;
    const int64_t first = base - half_taps_ + 1, last = base + half_taps_;  // inclusive input range
    if (last >= buffer_end) break;
    if (flushing && next_output_ >= outputs_total) break;
    const auto &h = phases_[phase];
    float acc = 0.0f;
    for (int k = 0; k < 2 * half_taps_; ++k) {
      const int64_t idx = first + k;
      if (idx >= 0 && idx >= buffer_start_) acc += h[k] * buffer_[idx - buffer_start_];
    }
    out->push_back(acc);
    ++next_output_;
  }
  // drop input no future output needs
  const int64_t keep_from = (next_output_ * down_) / up_ - half_taps_ + 1;
  if (keep_from > buffer_start_) {
    const int64_t drop = std::min<int64_t>(keep_from - buffer_start_, static_cast<int64_t>(buffer_.size()));
    buffer_.erase(buffer_.begin(), buffer_.begin() + drop);
    buffer_start_ += drop;
  }
}

}  // namespace mt2kd
