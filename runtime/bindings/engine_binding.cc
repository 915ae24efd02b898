// Bindings for mt2kd/engine.h. Calls that run the model release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mt2kd/engine.h"
#include "mt2kd/speaker_store.h"
#include "samples_array.h"

namespace py = pybind11;

namespace mt2kd {

static void StreamAccept(Stream &self, int sample_rate, const py::array &samples) {
  WithSamples(
      samples, [&](const float *p, size_t n) { self.AcceptWaveform(sample_rate, p, n); },
      [&](const int16_t *p, size_t n) { self.AcceptInt16(sample_rate, p, n); });
}

void BindEngine(py::module_ &m) {
  py::class_<DecodingConfig>(m, "DecodingConfig")
      .def(py::init<>())
      .def_readwrite("beam_size", &DecodingConfig::beam_size)
      .def_readwrite("tokens_per_frame", &DecodingConfig::tokens_per_frame)
      .def_readwrite("lm", &DecodingConfig::lm)
      .def_readwrite("lm_weight", &DecodingConfig::lm_weight)
      .def_readwrite("word_bonus", &DecodingConfig::word_bonus)
      .def_readwrite("oov_penalty", &DecodingConfig::oov_penalty)
      .def_readwrite("hotword_boost", &DecodingConfig::hotword_boost)
      .def_readwrite("max_revised_words", &DecodingConfig::max_revised_words)
      .def_readwrite("lm_lookahead", &DecodingConfig::lm_lookahead)
      .def("validate", &DecodingConfig::Validate);
  py::class_<TaggingConfig>(m, "TaggingConfig")
      .def(py::init<>())
      .def_readwrite("window_ms", &TaggingConfig::window_ms)
      .def_readwrite("hop_ms", &TaggingConfig::hop_ms)
      .def_readwrite("top_k", &TaggingConfig::top_k)
      .def_readwrite("on_threshold", &TaggingConfig::on_threshold)
      .def_readwrite("off_threshold", &TaggingConfig::off_threshold)
      .def_readwrite("min_event_ms", &TaggingConfig::min_event_ms);
  py::class_<EndpointConfig>(m, "EndpointConfig")
      .def(py::init<>())
      .def_readwrite("enabled", &EndpointConfig::enabled)
      .def_readwrite("trailing_silence_ms", &EndpointConfig::trailing_silence_ms)
      .def_readwrite("min_speech_ms", &EndpointConfig::min_speech_ms)
      .def_readwrite("no_speech_timeout_ms", &EndpointConfig::no_speech_timeout_ms)
      .def_readwrite("max_utterance_ms", &EndpointConfig::max_utterance_ms)
      .def_readwrite("speech_threshold", &EndpointConfig::speech_threshold)
      .def_readwrite("tagger_vote_with_text", &EndpointConfig::tagger_vote_with_text);
  m.attr("MIN_SAMPLE_RATE") = kMinSampleRate;
  m.attr("MAX_SAMPLE_RATE") = kMaxSampleRate;
  m.attr("MAX_BEAM_SIZE") = kMaxBeamSize;
  py::class_<EngineConfig>(m, "EngineConfig")
      .def(py::init<>())
      .def("validate", &EngineConfig::Validate, py::arg("frame_shift_ms"),
           "Raise ValueError if an option is out of range (the Engine checks this too).")
      .def_readwrite("decoding", &EngineConfig::decoding)
      .def_readwrite("tagging", &EngineConfig::tagging)
      .def_readwrite("endpoint", &EngineConfig::endpoint)
      .def_readwrite("resample", &EngineConfig::resample)
      .def("__repr__", &EngineConfig::ToString);

  py::class_<WordResult>(m, "WordResult")
      .def_readonly("word", &WordResult::word)
      .def_readonly("start_s", &WordResult::start_s)
      .def_readonly("end_s", &WordResult::end_s);
  py::class_<AsrResult>(m, "AsrResult")
      .def_readonly("text", &AsrResult::text)
      .def_readonly("tokens", &AsrResult::tokens)
      .def_readonly("token_ids", &AsrResult::token_ids)
      .def_readonly("token_times_s", &AsrResult::token_times_s)
      .def_readonly("words", &AsrResult::words)
      .def_readonly("start_s", &AsrResult::start_s)
      .def_readonly("end_s", &AsrResult::end_s)
      .def_readonly("segment", &AsrResult::segment)
      .def_readonly("is_final", &AsrResult::is_final);
  py::class_<TagScore>(m, "TagScore").def_readonly("index", &TagScore::index).def_readonly("score", &TagScore::score);
  py::class_<TagEvent>(m, "TagEvent")
      .def_readonly("index", &TagEvent::index)
      .def_readonly("start_s", &TagEvent::start_s)
      .def_readonly("end_s", &TagEvent::end_s)
      .def_readonly("peak", &TagEvent::peak);

  py::enum_<StreamEventType>(m, "StreamEventType")
      .value("PARTIAL", StreamEventType::kPartial)
      .value("FINAL", StreamEventType::kFinal)
      .value("TAG_START", StreamEventType::kTagStart)
      .value("TAG_END", StreamEventType::kTagEnd)
      .value("SPEAKER", StreamEventType::kSpeaker);
  py::class_<StreamEvent>(m, "StreamEvent")
      .def_readonly("type", &StreamEvent::type)
      .def_readonly("start_s", &StreamEvent::start_s)
      .def_readonly("end_s", &StreamEvent::end_s)
      .def_readonly("segment", &StreamEvent::segment)
      .def_readonly("text", &StreamEvent::text)
      .def_readonly("words", &StreamEvent::words)
      .def_property_readonly("speaker", [](const StreamEvent &e) -> py::object {
        return e.speaker.empty() ? py::none() : py::cast(e.speaker);
      })
      .def_readonly("speaker_score", &StreamEvent::speaker_score)
      .def_readonly("tag_index", &StreamEvent::tag_index)
      .def_readonly("tag_label", &StreamEvent::tag_label)
      .def_readonly("tag_score", &StreamEvent::tag_score)
      .def("__repr__", [](const StreamEvent &e) {
        return std::string("<StreamEvent ") + StreamEventTypeName(e.type) + ">";
      });
  m.attr("MIN_SPEAKER_SEGMENT_MS") = kMinSpeakerSegmentMs;
  m.attr("DEFAULT_SPEAKER_THRESHOLD") = kDefaultSpeakerThreshold;

  py::class_<Stream>(m, "Stream")
      .def("accept_waveform", &StreamAccept, py::arg("sample_rate"), py::arg("samples"))
      .def("input_finished", &Stream::InputFinished)
      .def("is_ready", &Stream::IsReady)
      .def_property_readonly("is_finished", &Stream::IsFinished)
      .def("is_endpoint", &Stream::IsEndpoint)
      .def("get_result", &Stream::GetResult)
      .def("reset", &Stream::Reset)
      .def("top_tags", &Stream::TopTags)
      .def("active_tag_events", &Stream::ActiveTagEvents)
      .def("take_started_tag_events", &Stream::TakeStartedTagEvents)
      .def("take_finished_tag_events", &Stream::TakeFinishedTagEvents)
      .def(
          "take_events",
          [](Stream &s, const SpeakerStore *speakers, float threshold) { return s.TakeEvents({speakers, threshold}); },
          py::arg("speakers") = nullptr, py::arg("speaker_threshold") = kDefaultSpeakerThreshold,
          "The events of the chunk decoded since the last call (call it after every decode); resets the "
          "stream at an endpoint. `speakers` (a SpeakerStore or None) names each segment's speaker.")
      .def("speaker_embedding",
           [](const Stream &s) {
             auto e = s.SpeakerEmbedding();
             return py::array_t<float>(static_cast<py::ssize_t>(e.size()), e.data());
           })
      .def_property_readonly("processed_seconds", &Stream::ProcessedSeconds)
      .def_property_readonly("speech_seconds", &Stream::SpeechSeconds)
      .def_property_readonly("num_chunks_decoded", &Stream::NumChunksDecoded);

  py::class_<DecodeTiming>(m, "DecodeTiming")
      .def_readonly("model_s", &DecodeTiming::model_s)
      .def_readonly("core_s", &DecodeTiming::core_s)
      .def_readonly("decoder_s", &DecodeTiming::decoder_s)
      .def_readonly("chunks", &DecodeTiming::chunks);

  py::class_<Engine, std::shared_ptr<Engine>>(m, "Engine")
      .def(py::init<std::shared_ptr<Backend>, const EngineConfig &>(), py::arg("backend"), py::arg("config"))
      .def(
          "create_stream",
          [](const Engine &e, std::shared_ptr<ContextGraph> hotwords) { return e.CreateStream(std::move(hotwords)); },
          py::arg("hotwords") = nullptr, py::keep_alive<0, 1>())
      .def(
          "make_hotwords",
          [](const Engine &e, const std::vector<Hotword> &hotwords) {
            return std::const_pointer_cast<ContextGraph>(e.MakeHotwords(hotwords));
          },
          py::arg("hotwords"), "A hotword graph for create_stream (None for an empty list); ValueError naming a bad phrase.")
      .def_property_readonly("has_lm", [](const Engine &e) { return e.Lm() != nullptr; })
      .def("decode_streams", &Engine::DecodeStreams, py::arg("streams"), py::call_guard<py::gil_scoped_release>())
      .def(
          "decode_stream", [](const Engine &e, Stream *s) { e.DecodeStreams({s}); }, py::arg("stream"),
          py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("info", &Engine::Info, py::return_value_policy::reference_internal)
      .def_property_readonly("config", &Engine::Config)
      .def_property_readonly("backend_name", [](const Engine &e) { return e.GetBackend().Name(); })
      .def("timing", &Engine::Timing, "Seconds spent in the model's step and in the core's own work.");
}

}  // namespace mt2kd
