// Fixed-size chunking of a live audio stream.
//
// The encoder consumes exactly `chunk_samples` samples per step (the streaming spec's input
// shape). Audio arrives in pieces of any size; the chunker buffers them, validates them, and
// hands out whole chunks. At the end of a stream it zero-pads the tail to a whole chunk, which
// is what the model's full forward assumes too (see mt2kd_edge/model/frontend.py).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mt2kd {

struct ChunkerConfig {
  int sample_rate = 16000;     // Hz the model expects; other rates are refused (Stream resamples them)
  int chunk_samples = 5120;    // samples per model step (320 ms at 16 kHz)
  float max_abs_sample = 2.0f; // larger magnitudes mean int16-scaled floats: refuse them

  void Validate() const;  // throws std::invalid_argument
  std::string ToString() const;
};

class Chunker {
 public:
  explicit Chunker(const ChunkerConfig &config);
  ~Chunker();
  Chunker(Chunker &&) noexcept;
  Chunker &operator=(Chunker &&) noexcept;

  // Appends float samples in [-1, 1]. Throws std::invalid_argument (and appends nothing) on a
  // sample-rate mismatch, NaN/Inf, magnitudes above max_abs_sample, or audio after
  // InputFinished(). An empty array is accepted and does nothing.
  void AcceptFloat(int sample_rate, const float *samples, std::size_t n);
  // Throws std::invalid_argument if any sample is NaN/Inf or larger than max_abs in magnitude.
  // Shared by AcceptFloat and by callers that must validate before transforming (resampling).
  // The message counts from `first_index` (the samples already in the stream) and, when
  // sample_rate > 0, gives the time too: "sample 48123 (3.008 s)", not the index in this piece.
  static void CheckSamples(const float *samples, std::size_t n, float max_abs, std::int64_t first_index = 0,
                           int sample_rate = 0);
  // Appends int16 PCM, scaled by 1/32768 to [-1, 1).
  void AcceptInt16(int sample_rate, const int16_t *samples, std::size_t n);
  // No more audio: the buffered tail (if any) is zero-padded to a whole chunk. With
  // `always_one_more`, a whole chunk of zeros is buffered even when no tail is left (the padding is
  // not counted as accepted): the Stream asks for it so that its last step always comes after the
  // input ended, and that step's endpoint and tag flush are not lost when the audio filled its last
  // chunk exactly.
  void InputFinished(bool always_one_more = false);

  bool IsReady() const;            // a whole chunk is buffered
  bool IsFinished() const;         // InputFinished() was called
  std::vector<float> PopChunk();   // throws std::logic_error if !IsReady()
  // PopChunk in two halves, so a caller can leave the chunk in place until its work succeeded
  // (a failed model step must not lose audio). Both throw std::logic_error if !IsReady().
  std::vector<float> PeekChunk() const;
  void DropChunk();
  void Reset();                    // forget everything; ready for a new stream

  std::int64_t NumSamplesAccepted() const;  // real samples, padding excluded
  std::int64_t NumChunksPopped() const;
  std::int64_t NumBufferedSamples() const;  // including padding not yet popped
  const ChunkerConfig &Config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mt2kd
