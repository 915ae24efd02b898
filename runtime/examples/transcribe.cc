// mt2kd_transcribe: the C++ core embedded in an app, without Python.
//
//   mt2kd_transcribe MODEL.pte AUDIO.wav [SPEAKERS.json] [--speakers FILE] [--threshold 0.5] [--jsonl]
//                    [--beam-size N] [--lm FILE] [--lm-weight W] [--word-bonus B] [--oov-penalty P]
//                    [--piece-ms 100] [--verbose] [--peak-rss]
//
// Streams the file through the ExecuTorch backend in pieces (like a microphone) and prints the
// stream's events as `mt2kd-edge run` does: the same lines, or with --jsonl the same JSON objects
// as `run --jsonl`. The events come from Stream::TakeEvents, the rules the Python API uses too;
// the decoding options are the ones `run` takes from the model directory's model.json.
// --peak-rss prints the app's own peak memory at exit ("peak_rss_kb N" on stderr, VmHWM, which exec
// resets: a parent's rusage would count the memory of whatever forked it too); `mt2kd-edge bench` reads it.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "event_format.h"
#include "mt2kd/backend.h"
#include "mt2kd/engine.h"
#include "mt2kd/speaker_store.h"
#include "mt2kd/wav_reader.h"

namespace {

struct Options {
  std::string model, audio, speakers;
  float threshold = mt2kd::kDefaultSpeakerThreshold;
  bool jsonl = false;
  bool peak_rss = false;
  int piece_ms = 100;  // `run --piece-ms`'s default
  mt2kd::EngineConfig config;
};

Options Parse(int argc, char **argv) {
  Options o;
  auto value = [&](int &i) -> std::string {
    if (i + 1 >= argc) throw std::invalid_argument(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--speakers") o.speakers = value(i);
    else if (arg == "--threshold") o.threshold = std::stof(value(i));
    else if (arg == "--jsonl") o.jsonl = true;
    else if (arg == "--beam-size") o.config.decoding.beam_size = std::stoi(value(i));
    else if (arg == "--lm") o.config.decoding.lm = value(i);
    else if (arg == "--lm-weight") o.config.decoding.lm_weight = std::stof(value(i));
    else if (arg == "--word-bonus") o.config.decoding.word_bonus = std::stof(value(i));
    else if (arg == "--oov-penalty") o.config.decoding.oov_penalty = std::stof(value(i));
    else if (arg == "--piece-ms") o.piece_ms = std::stoi(value(i));
    else if (arg == "--verbose") mt2kd::SetExecuTorchVerboseLogs(true);  // ExecuTorch's own Info log lines too
    else if (arg == "--peak-rss") o.peak_rss = true;
    else if (arg.rfind("--", 0) == 0) throw std::invalid_argument("unknown option " + arg);
    else if (o.model.empty()) o.model = arg;
    else if (o.audio.empty()) o.audio = arg;
    else o.speakers = arg;  // the older positional SPEAKERS.json
  }
  if (o.model.empty() || o.audio.empty()) throw std::invalid_argument("a model and an audio file are needed");
  if (o.piece_ms < 1) throw std::invalid_argument("--piece-ms must be 1 or more");
  return o;
}

// This process's peak resident set (VmHWM in /proc/self/status, Linux) in KB, or -1 where unknown.
long PeakRssKb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

int main(int argc, char **argv) {
  Options opt;
  try {
    opt = Parse(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr,
                 "error: %s\nusage: %s MODEL.pte AUDIO.wav [SPEAKERS.json] [--speakers FILE] [--threshold T] [--jsonl]\n"
                 "       [--beam-size N] [--lm FILE] [--lm-weight W] [--word-bonus B] [--oov-penalty P] [--piece-ms MS] "
                 "[--verbose] [--peak-rss]\n",
                 e.what(), argv[0]);
    return 2;
  }
  try {
    std::optional<mt2kd::SpeakerStore> store;
    if (!opt.speakers.empty()) store = mt2kd::SpeakerStore::Load(opt.speakers);
    const mt2kd::SpeakerNaming naming{store ? &*store : nullptr, opt.threshold};
    auto backend = mt2kd::CreateExecuTorchBackend(opt.model);
    mt2kd::Engine engine(backend, opt.config);
    const auto &info = engine.Info();
    auto wav = mt2kd::ReadWav(opt.audio);
    auto stream = engine.CreateStream();
    // As `run`: partials redraw in place on a terminal only, the other lines clear them first.
    const bool terminal = !opt.jsonl && isatty(fileno(stdout));
    const char *clear = terminal ? "\r\033[K" : "";
    if (!opt.jsonl)
      std::printf("== %s (%.2f s, %s)\n", opt.audio.c_str(), static_cast<double>(wav.samples.size()) / wav.sample_rate,
                  backend->Name().c_str());
    auto decode = [&]() {
      while (stream->IsReady()) {
        engine.DecodeStreams({stream.get()});
        for (const auto &ev : stream->TakeEvents(naming)) {  // resets the stream at an endpoint
          const std::string line = opt.jsonl ? mt2kd_example::JsonLine(ev, opt.audio) : mt2kd_example::FormatEvent(ev);
          if (line.empty()) continue;  // a tag start: `run` shows a tag once it has ended
          if (ev.type != mt2kd::StreamEventType::kPartial || opt.jsonl)
            std::printf("%s%s\n", clear, line.c_str());
          else if (terminal)
            std::printf("%s%s", clear, line.c_str());
          std::fflush(stdout);
        }
      }
    };
    const size_t piece = static_cast<size_t>(wav.sample_rate) * opt.piece_ms / 1000;
    for (size_t at = 0; at < wav.samples.size(); at += piece) {
      const size_t n = std::min(piece, wav.samples.size() - at);
      stream->AcceptWaveform(wav.sample_rate, wav.samples.data() + at, n);
      decode();
    }
    stream->InputFinished();
    decode();
    if (opt.peak_rss) std::fprintf(stderr, "peak_rss_kb %ld\n", PeakRssKb());
    if (opt.jsonl) return 0;  // the events alone, as `run --jsonl`
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
