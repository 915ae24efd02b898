// Minimal WAV reading for apps and the example: PCM 16-bit or float 32-bit, mixed down to mono.
#pragma once

#include <string>
#include <vector>

namespace mt2kd {

struct WavData {
  int sample_rate = 0;
  std::vector<float> samples;  // mono, in [-1, 1]
};

// Throws std::invalid_argument naming the file if it is missing, not a supported WAV, truncated,
// or its header's rate is outside kMinSampleRate-kMaxSampleRate (model_info.h).
WavData ReadWav(const std::string &path);

}  // namespace mt2kd
