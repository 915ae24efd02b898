// mt2kd_transcribe: the C++ core embedded in an app, without Python.
//
//   mt2kd_transcribe MODEL.pte AUDIO.wav [SPEAKERS.json] [--threshold 0.5]
//
// Streams the file through the ExecuTorch backend in 20 ms pieces (like a microphone) and prints
// each utterance with its speaker, the sound events, and the final top tags.
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "mt2kd/backend.h"
#include "mt2kd/engine.h"
#include "mt2kd/speaker_store.h"
#include "mt2kd/wav_reader.h"

namespace {

void PrintSegment(const mt2kd::AsrResult &r, const std::optional<mt2kd::SpeakerStore> &store,
                  const std::vector<float> &embedding, float threshold) {
  std::string who = "-";
  if (store && !embedding.empty() && !store->Names().empty()) {
    auto m = store->Identify(embedding, threshold);
    char buf[64];
    std::snprintf(buf, sizeof(buf), " (%.2f)", m.score);
    who = (m.name.empty() ? std::string("unknown") : m.name) + buf;
  }
  if (!r.text.empty()) std::printf("final [%6.2f - %6.2f] speaker=%s text=%s\n", r.start_s, r.end_s, who.c_str(), r.text.c_str());
}

void PrintEvents(mt2kd::Stream &s, const mt2kd::ModelInfo &info) {
  for (const auto &ev : s.TakeFinishedTagEvents())
    std::printf("tag   [%6.2f - %6.2f] %s (peak %.2f)\n", ev.start_s, ev.end_s, info.labels[ev.index].name.c_str(), ev.peak);
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.pte AUDIO.wav [SPEAKERS.json] [--threshold T] [--verbose]\n", argv[0]);
    return 2;
  }
  try {
    std::optional<mt2kd::SpeakerStore> store;
    float threshold = 0.5f;
    for (int i = 3; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--threshold") && i + 1 < argc)
        threshold = std::stof(argv[++i]);
      else if (!std::strcmp(argv[i], "--verbose"))  // ExecuTorch's own Info log lines too
        mt2kd::SetExecuTorchVerboseLogs(true);
      else
        store = mt2kd::SpeakerStore::Load(argv[i]);
    }
    auto backend = mt2kd::CreateExecuTorchBackend(argv[1]);
    mt2kd::Engine engine(backend, mt2kd::EngineConfig{});
    const auto &info = engine.Info();
    auto wav = mt2kd::ReadWav(argv[2]);
    auto stream = engine.CreateStream();
    const size_t piece = static_cast<size_t>(wav.sample_rate / 50);  // 20 ms
    auto decode = [&]() {
      while (stream->IsReady()) {
        engine.DecodeStreams({stream.get()});
        PrintEvents(*stream, info);
        if (stream->IsEndpoint() && !stream->IsFinished()) {
          PrintSegment(stream->GetResult(), store, stream->SpeakerEmbedding(), threshold);
          stream->Reset();
        }
      }
    };
    for (size_t at = 0; at < wav.samples.size(); at += piece) {
      const size_t n = std::min(piece, wav.samples.size() - at);
      stream->AcceptWaveform(wav.sample_rate, wav.samples.data() + at, n);
      decode();
    }
    stream->InputFinished();
    decode();
    PrintEvents(*stream, info);
    PrintSegment(stream->GetResult(), store, stream->SpeakerEmbedding(), threshold);
    std::printf("top tags:");
    for (const auto &t : stream->TopTags()) std::printf(" %s=%.2f", info.labels[t.index].name.c_str(), t.score);
    std::printf("\naudio %.2f s, %lld chunks, backend %s (%s)\n", stream->ProcessedSeconds(),
                static_cast<long long>(stream->NumChunksDecoded()), backend->Name().c_str(), info.precision.c_str());
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
