// Unit tests of the chunker without Python. Built by CMake (BUILD_TESTING) and run by ctest.
#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "mt2kd/chunker.h"

int main() {
  mt2kd::ChunkerConfig cfg;
  cfg.chunk_samples = 4;
  mt2kd::Chunker c(cfg);
  std::vector<float> a = {0.1f, 0.2f, 0.3f};
  c.AcceptFloat(16000, a.data(), a.size());
  CHECK(!c.IsReady());
  std::vector<int16_t> b = {16384, -32768};
  c.AcceptInt16(16000, b.data(), b.size());
  CHECK(c.IsReady());
  auto chunk = c.PopChunk();
  CHECK(chunk.size() == 4 && chunk[3] == 0.5f);
  CHECK(c.NumBufferedSamples() == 1);

  // Bad input throws and leaves the buffer untouched.
  std::vector<float> bad = {0.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK(Throws([&] { c.AcceptFloat(16000, bad.data(), bad.size()); }));
  CHECK(Throws([&] { c.AcceptFloat(8000, a.data(), a.size()); }));
  std::vector<float> loud = {1000.0f};
  CHECK(Throws([&] { c.AcceptFloat(16000, loud.data(), loud.size()); }));
  CHECK(c.NumBufferedSamples() == 1 && c.NumSamplesAccepted() == 5);

  // errors count samples from the stream's start, not from the start of the piece
  try {
    c.AcceptFloat(16000, bad.data(), bad.size());
    return 1;
  } catch (const std::invalid_argument &e) {
    CHECK(std::string(e.what()).find("sample 6 (0.000 s) is NaN") == 0);
  }

  c.InputFinished();
  CHECK(c.IsReady());
  // peeking leaves the chunk in place (a failed model step must not lose it)
  CHECK(c.PeekChunk() == c.PeekChunk() && c.NumChunksPopped() == 1);
  chunk = c.PopChunk();
  CHECK(chunk[0] == -1.0f && chunk[1] == 0.0f && chunk[3] == 0.0f);
  CHECK(!c.IsReady());
  CHECK(Throws([&] { c.PopChunk(); }));
  CHECK(Throws([&] { c.AcceptFloat(16000, a.data(), a.size()); }));
  c.Reset();
  c.AcceptFloat(16000, a.data(), a.size());
  CHECK(c.NumSamplesAccepted() == 3);

  // Input that filled its last chunk exactly: plain InputFinished pads nothing, always_one_more buffers one
  // chunk of zeros (the Stream's carrier of the end of input), not counted as accepted audio.
  for (bool one_more : {false, true}) {
    mt2kd::ChunkerConfig four;
    four.chunk_samples = 4;
    mt2kd::Chunker exact(four);
    std::vector<float> whole = {0.1f, 0.2f, 0.3f, 0.4f};
    exact.AcceptFloat(16000, whole.data(), whole.size());
    exact.PopChunk();
    exact.InputFinished(one_more);
    CHECK(exact.IsReady() == one_more && exact.NumSamplesAccepted() == 4);
    if (one_more) CHECK(exact.PopChunk() == std::vector<float>(4, 0.0f) && !exact.IsReady());
  }

  cfg.chunk_samples = 0;
  CHECK(Throws([&] { mt2kd::Chunker bad_cfg(cfg); }));
  std::puts("test_chunker: all checks passed");
  return 0;
}
