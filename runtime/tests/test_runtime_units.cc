// Unit tests of the runtime's building blocks without Python: CTC decoding, detokenisation,
// tag aggregation, resampling, the speaker store, metadata parsing and the WAV reader.
#include <sys/stat.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "check.h"
#include "mt2kd/ctc_decoder.h"
#include "mt2kd/model_info.h"
#include "mt2kd/resampler.h"
#include "mt2kd/speaker_store.h"
#include "mt2kd/tag_aggregator.h"
#include "mt2kd/wav_reader.h"

namespace {

// Log-probs for a 3-token vocabulary (0 = blank) from per-frame best tokens.
std::vector<float> Frames(const std::vector<int> &best) {
  std::vector<float> lp;
  for (int b : best)
    for (int v = 0; v < 3; ++v) lp.push_back(std::log(v == b ? 0.8f : 0.1f));
  return lp;
}

int TestCtc() {
  mt2kd::DecodingConfig greedy;
  mt2kd::CtcDecoder g(greedy);
  auto lp = Frames({0, 1, 1, 0, 1, 2, 2, 0});
  g.Accept(lp.data(), 4, 3, 0);  // in two pieces: streaming must not change the result
  g.Accept(lp.data() + 12, 4, 3, 4);
  auto best = g.Best();
  CHECK(best.size() == 3 && best[0].id == 1 && best[1].id == 1 && best[2].id == 2);
  CHECK(best[0].frame == 1 && best[1].frame == 4 && best[2].frame == 5);
  mt2kd::DecodingConfig beam;
  beam.beam_size = 4;
  mt2kd::CtcDecoder b(beam);
  b.Accept(lp.data(), 8, 3, 0);
  auto bb = b.Best();
  CHECK(bb.size() == 3 && bb[0].id == 1 && bb[1].id == 1 && bb[2].id == 2);
  // beam search sums alignments: two weak "1" frames beat one strong blank path
  std::vector<float> amb = {std::log(0.4f), std::log(0.6f), -30.f, std::log(0.4f), std::log(0.6f), -30.f};
  mt2kd::CtcDecoder b2(beam);
  b2.Accept(amb.data(), 2, 3, 0);
  CHECK(b2.Best().size() == 1 && b2.Best()[0].id == 1);
  CHECK(mt2kd::Detokenize({"\xe2\x96\x81" "the", "\xe2\x96\x81" "ca", "t"}) == "the cat");
  CHECK(mt2kd::Detokenize({}).empty());
  return 0;
}

int TestTagging() {
  mt2kd::TaggingConfig cfg;
  cfg.window_ms = 80;
  cfg.hop_ms = 40;
  cfg.on_threshold = 0.5f;
  cfg.off_threshold = 0.3f;
  mt2kd::TagAggregator agg(cfg, 2, 40);
  // class 1 rises, dips to 0.4 (between the thresholds: no new event), then falls
  std::vector<float> p1 = {0.0f, 0.9f, 0.9f, 0.4f, 0.4f, 0.9f, 0.0f, 0.0f, 0.0f};
  for (float v : p1) {
    float row[2] = {0.1f, v};
    agg.Accept(row, 1);
  }
  agg.Flush();
  auto done = agg.TakeFinishedEvents();
  CHECK(done.size() == 1 && done[0].index == 1);
  CHECK(done[0].start_s < done[0].end_s && done[0].peak >= 0.9f - 1e-6f);
  CHECK(agg.TopK()[0].index == 0);  // the last window is quiet: class 0 (0.1) leads
  CHECK(Throws([] {
    mt2kd::TaggingConfig bad;
    bad.off_threshold = 0.9f;
    bad.on_threshold = 0.5f;
    mt2kd::TagAggregator a(bad, 2, 40);
  }));
  return 0;
}

int TestResampler() {
  const int in_rate = 48000, out_rate = 16000;
  std::vector<float> x(in_rate);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * std::sin(2 * M_PI * 440.0 * i / in_rate);
  mt2kd::Resampler whole(in_rate, out_rate), pieces(in_rate, out_rate);
  std::vector<float> a, b;
  whole.Accept(x.data(), x.size(), &a);
  whole.Flush(&a);
  for (size_t at = 0; at < x.size(); at += 777) pieces.Accept(x.data() + at, std::min<size_t>(777, x.size() - at), &b);
  pieces.Flush(&b);
  CHECK(a.size() == 16000 && a == b);  // length follows the rate, and splitting changes nothing
  // a rate from a broken header must not become a filter bank of 10^11 taps
  CHECK(Throws([] { mt2kd::Resampler r(2147483647, 16000); }));
  CHECK(Throws([] { mt2kd::Resampler r(1, 16000); }));
  mt2kd::Resampler edge(191999, 16000);  // the worst pair in range (no common factor) still fits
  double err = 0;
  for (int i = 100; i < 15900; ++i) err = std::max(err, std::fabs(a[i] - 0.5 * std::sin(2 * M_PI * 440.0 * i / out_rate)));
  CHECK(err < 1e-2);
  return 0;
}

int TestSpeakerStore() {
  mt2kd::SpeakerStore store(3);
  store.Enroll("ann", {1, 0, 0});
  store.Enroll("ann", {1, 0.1f, 0});
  store.Enroll("bob", {0, 1, 0});
  CHECK(store.Identify({0.9f, 0.05f, 0}, 0.5f).name == "ann");
  CHECK(store.Identify({0, 0, 1}, 0.5f).name.empty());  // nobody close enough: unknown
  CHECK(store.Verify("bob", {0, 1, 0.1f}, 0.5f).accepted);
  CHECK(Throws([&] { store.Verify("carl", {0, 1, 0}, 0.5f); }));
  CHECK(Throws([&] { store.Enroll("x", {0, 0, 0}); }));
  CHECK(Throws([&] { store.Enroll("x", {1, 2}); }));
  const std::string path = "test_speakers.json";
  store.Save(path);
  auto loaded = mt2kd::SpeakerStore::Load(path);
  CHECK(loaded.Names() == store.Names() && loaded.NumUtterances("ann") == 2);
  // names: UTF-8 without control characters
  CHECK(Throws([&] { store.Enroll("tab\there", {1, 0, 0}); }));
  CHECK(Throws([&] { store.Enroll("bad\xff", {1, 0, 0}); }));
  CHECK(Throws([&] { store.Enroll("\xed\xa0\x80", {1, 0, 0}); }));  // a UTF-16 surrogate, encoded
  CHECK(mt2kd::SpeakerNameProblem("Zo\xc3\xab").empty());
  CHECK(mt2kd::QuotedName("a\tb\xff") == "'a\\x09b\\xff'");
  // the file keeps its mode when replaced; a new file gets the given one
  ::chmod(path.c_str(), 0640);
  store.Save(path);
  struct stat st;
  CHECK(::stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) == 0640);
  std::remove(path.c_str());
  store.Save(path);
  CHECK(::stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) == 0600);
  std::ofstream(path + ".tmp-999999999") << "left by a writer that is gone";
  store.Save(path);
  CHECK(!std::ifstream(path + ".tmp-999999999").good());
  std::ofstream(path) << "{ not json";
  CHECK(Throws([&] { mt2kd::SpeakerStore::Load(path); }));
  std::ofstream(path) << R"({"format": "something-else"})";
  CHECK(Throws([&] { mt2kd::SpeakerStore::Load(path); }));
  std::remove(path.c_str());
  return 0;
}

int TestModelInfo() {
  CHECK(Throws([] { mt2kd::ModelInfo::FromJson("{", "m.json"); }));
  CHECK(Throws([] { mt2kd::ModelInfo::FromJson(R"({"format": "mt2kd-edge-model", "format_version": 9})", "m.json"); }));
  try {
    mt2kd::ModelInfo::FromJson(R"({"format": "other"})", "m.json");
    return 1;
  } catch (const std::invalid_argument &e) {
    CHECK(std::string(e.what()).find("m.json") == 0);  // errors name the file
  }
  // a document that contradicts itself is refused before anything is sized from it
  auto doc = [](int frames, int tokens, int labels) {
    std::string toks, labs;
    for (int i = 0; i < tokens; ++i) toks += std::string(i ? "," : "") + "\"t" + std::to_string(i) + "\"";
    for (int i = 0; i < labels; ++i) labs += std::string(i ? "," : "") + R"({"mid": "m", "name": "l"})";
    return R"({"format": "mt2kd-edge-model", "format_version": 1, "tokens": [)" + toks + R"(], "labels": [)" + labs +
           R"(], "streaming_spec": {"sample_rate": 16000, "chunk_samples": 1280, "frames_per_chunk": )" +
           std::to_string(frames) + R"(, "frame_shift_ms": 40, "input": {"name": "samples", "shape": [1280]},
           "outputs": [{"name": "ctc_log_probs", "shape": [2, 3]}, {"name": "tag_probs", "shape": [2, 2]},
                       {"name": "speaker_embedding", "shape": [4]}],
           "states": [{"name": "s", "shape": [5]}]}})";
  };
  const auto info = mt2kd::ModelInfo::FromJson(doc(2, 3, 2), "m.json");
  CHECK(info.chunk_samples == 1280 && info.input_name == "samples" && info.where == "m.json");
  CHECK(Throws([&] { mt2kd::ModelInfo::FromJson(doc(0, 3, 2), "m.json"); }));  // was a division by zero
  CHECK(Throws([&] { mt2kd::ModelInfo::FromJson(doc(2, 2, 2), "m.json"); }));  // a token short of the CTC width
  CHECK(Throws([&] { mt2kd::ModelInfo::FromJson(doc(2, 3, 7), "m.json"); }));  // labels past the tag width
  return 0;
}

int TestWavReader() {
  auto write = [](const std::string &path, uint32_t rate) {
    std::ofstream f(path, std::ios::binary);
    auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char *>(&v), 4); };
    auto u16 = [&](uint16_t v) { f.write(reinterpret_cast<const char *>(&v), 2); };
    f.write("RIFF", 4), u32(36 + 4), f.write("WAVEfmt ", 8), u32(16), u16(1), u16(1), u32(rate), u32(rate * 2), u16(2),
        u16(16), f.write("data", 4), u32(4), u32(0);
  };
  write("test_rate.wav", 16000);
  CHECK(mt2kd::ReadWav("test_rate.wav").sample_rate == 16000 && mt2kd::ReadWav("test_rate.wav").samples.size() == 2);
  for (uint32_t bad : {0u, 1u, 3999u, 192001u, 2147483647u}) {
    write("test_rate.wav", bad);
    CHECK(Throws([] { mt2kd::ReadWav("test_rate.wav"); }));
  }
  std::remove("test_rate.wav");
  return 0;
}

}  // namespace

int main() {
  if (TestCtc() || TestTagging() || TestResampler() || TestSpeakerStore() || TestModelInfo() || TestWavReader()) return 1;
  std::puts("test_runtime_units: all checks passed");
  return 0;
}
