#include "mt2kd/wav_reader.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "mt2kd/model_info.h"

namespace mt2kd {

namespace {
template <typename T>
T Read(const std::vector<char> &b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}
}  // namespace

WavData ReadWav(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": no such audio file");
  std::vector<char> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) || std::memcmp(b.data() + 8, "WAVE", 4))
    throw std::invalid_argument(path + ": not a WAV file");
  int format = 0, channels = 0, bits = 0;
  WavData out;
  for (size_t at = 12; at + 8 <= b.size();) {
    const uint32_t size = Read<uint32_t>(b, at + 4);
    const size_t body = at + 8;
    if (body + size > b.size()) throw std::invalid_argument(path + ": truncated WAV chunk");
    if (!std::memcmp(b.data() + at, "fmt ", 4)) {
      if (size < 16) throw std::invalid_argument(path + ": WAV format chunk is too short");
      format = Read<uint16_t>(b, body);
      channels = Read<uint16_t>(b, body + 2);
      bits = Read<uint16_t>(b, body + 14);
      const uint32_t rate = Read<uint32_t>(b, body + 4);
      // A header's rate is not trusted: 1 Hz would "play" for hours, 2^31 Hz exhaust the resampler.
      if (rate < static_cast<uint32_t>(kMinSampleRate) || rate > static_cast<uint32_t>(kMaxSampleRate))
        throw std::invalid_argument(path + ": WAV header says " + std::to_string(rate) + " Hz; supported rates are " +
                                    std::to_string(kMinSampleRate) + "-" + std::to_string(kMaxSampleRate) + " Hz");
      out.sample_rate = static_cast<int>(rate);
      if (format == 0xFFFE && size >= 26) format = Read<uint16_t>(b, body + 24);  // WAVE_FORMAT_EXTENSIBLE
    } else if (!std::memcmp(b.data() + at, "data", 4)) {
      if (!channels) throw std::invalid_argument(path + ": WAV data before its format chunk");
      const bool pcm16 = format == 1 && bits == 16, float32 = format == 3 && bits == 32;
      if (!pcm16 && !float32) throw std::invalid_argument(path + ": only 16-bit PCM and 32-bit float WAV are supported");
      const size_t frames = size / (bits / 8) / channels;
      out.samples.resize(frames);
      for (size_t i = 0; i < frames; ++i) {
        float acc = 0;
        for (int c = 0; c < channels; ++c) {
          const size_t pos = body + (i * channels + c) * (bits / 8);
          acc += pcm16 ? Read<int16_t>(b, pos) / 32768.0f : Read<float>(b, pos);
        }
        out.samples[i] = acc / channels;
      }
      return out;
    }
    at = body + size + (size & 1);
  }
  throw std::invalid_argument(path + ": WAV file has no data chunk");
}

}  // namespace mt2kd
