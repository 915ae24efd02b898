#include "mt2kd/chunker.h"

#include <cmath>
#include <deque>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace mt2kd {

void ChunkerConfig::Validate() const {
  if (sample_rate <= 0) throw std::invalid_argument("sample_rate must be positive, got " + std::to_string(sample_rate));
  if (chunk_samples <= 0) throw std::invalid_argument("chunk_samples must be positive, got " + std::to_string(chunk_samples));
  if (!(max_abs_sample > 0.0f)) throw std::invalid_argument("max_abs_sample must be positive");
}

std::string ChunkerConfig::ToString() const {
  std::ostringstream os;
  os << "ChunkerConfig(sample_rate=" << sample_rate << ", chunk_samples=" << chunk_samples
     << ", max_abs_sample=" << max_abs_sample << ")";
  return os.str();
}

struct Chunker::Impl {
  ChunkerConfig config;
  std::deque<float> buffer;
  bool finished = false;
  std::int64_t accepted = 0;
  std::int64_t popped = 0;

  void CheckAccept(int sample_rate) const {
    if (finished) throw std::invalid_argument("audio after input_finished(): call reset() to start a new stream");
    if (sample_rate != config.sample_rate)
      throw std::invalid_argument("sample rate " + std::to_string(sample_rate) + " Hz does not match the model's " +
                                  std::to_string(config.sample_rate) + " Hz; resample the audio first");
  }
};

Chunker::Chunker(const ChunkerConfig &config) : impl_(std::make_unique<Impl>()) {
  config.Validate();
  impl_->config = config;
}
Chunker::~Chunker() = default;
Chunker::Chunker(Chunker &&) noexcept = default;
Chunker &Chunker::operator=(Chunker &&) noexcept = default;

namespace {
std::string Where(std::int64_t index, int sample_rate) {
  std::ostringstream os;
  os << "sample " << index;
  if (sample_rate > 0) os << " (" << std::fixed << std::setprecision(3) << static_cast<double>(index) / sample_rate << " s)";
  return os.str();
}
}  // namespace

void Chunker::CheckSamples(const float *samples, std::size_t n, float max_abs, std::int64_t first_index,
                           int sample_rate) {
  for (std::size_t i = 0; i < n; ++i) {
    const float x = samples[i];
    const std::int64_t at = first_index + static_cast<std::int64_t>(i);
    if (!std::isfinite(x)) throw std::invalid_argument(Where(at, sample_rate) + " is NaN or Inf");
    if (std::fabs(x) > max_abs) {
      std::ostringstream os;
      os << Where(at, sample_rate) << " = " << x << " is outside [-1, 1]; float audio must be scaled to [-1, 1]"
         << " (int16-scaled floats need dividing by 32768)";
      throw std::invalid_argument(os.str());
    }
  }
}

void Chunker::AcceptFloat(int sample_rate, const float *samples, std::size_t n) {
  impl_->CheckAccept(sample_rate);
  // Validate everything before appending anything, so a bad call leaves the stream intact.
  CheckSamples(samples, n, impl_->config.max_abs_sample, impl_->accepted, sample_rate);
  impl_->buffer.insert(impl_->buffer.end(), samples, samples + n);
  impl_->accepted += static_cast<std::int64_t>(n);
}

void Chunker::AcceptInt16(int sample_rate, const int16_t *samples, std::size_t n) {
  impl_->CheckAccept(sample_rate);
  for (std::size_t i = 0; i < n; ++i) impl_->buffer.push_back(static_cast<float>(samples[i]) / 32768.0f);
  impl_->accepted += static_cast<std::int64_t>(n);
}

void Chunker::InputFinished(bool always_one_more) {
  if (impl_->finished) return;
  impl_->finished = true;
  const std::size_t chunk = static_cast<std::size_t>(impl_->config.chunk_samples);
  const std::size_t tail = impl_->buffer.size() % chunk;
  if (tail) impl_->buffer.insert(impl_->buffer.end(), chunk - tail, 0.0f);
  else if (always_one_more && impl_->buffer.empty()) impl_->buffer.assign(chunk, 0.0f);
}

bool Chunker::IsReady() const {
  return impl_->buffer.size() >= static_cast<std::size_t>(impl_->config.chunk_samples);
}

bool Chunker::IsFinished() const { return impl_->finished; }

std::vector<float> Chunker::PopChunk() {
  std::vector<float> out = PeekChunk();
  DropChunk();
  return out;
}

std::vector<float> Chunker::PeekChunk() const {
  if (!IsReady()) throw std::logic_error("PopChunk(): no whole chunk is buffered; check IsReady() first");
  return std::vector<float>(impl_->buffer.begin(), impl_->buffer.begin() + impl_->config.chunk_samples);
}

void Chunker::DropChunk() {
  if (!IsReady()) throw std::logic_error("PopChunk(): no whole chunk is buffered; check IsReady() first");
  impl_->buffer.erase(impl_->buffer.begin(), impl_->buffer.begin() + impl_->config.chunk_samples);
  ++impl_->popped;
}

void Chunker::Reset() {
  impl_->buffer.clear();
  impl_->finished = false;
  impl_->accepted = 0;
  impl_->popped = 0;
}

std::int64_t Chunker::NumSamplesAccepted() const { return impl_->accepted; }
std::int64_t Chunker::NumChunksPopped() const { return impl_->popped; }
std::int64_t Chunker::NumBufferedSamples() const { return static_cast<std::int64_t>(impl_->buffer.size()); }
const ChunkerConfig &Chunker::Config() const { return impl_->config; }

}  // namespace mt2kd
