// Bindings for the building blocks (mt2kd/resampler.h, ctc_decoder.h, tag_aggregator.h,
// wav_reader.h), so each is tested on its own (the WAV reader by the fuzz tests).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mt2kd/ctc_decoder.h"
#include "mt2kd/resampler.h"
#include "mt2kd/tag_aggregator.h"
#include "mt2kd/wav_reader.h"

namespace py = pybind11;

namespace mt2kd {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

void BindDsp(py::module_ &m) {
  py::class_<Resampler>(m, "Resampler")
      .def(py::init<int, int, int>(), py::arg("in_rate"), py::arg("out_rate"), py::arg("zero_crossings") = 8)
      .def("accept",
           [](Resampler &r, FloatArray x) {
             std::vector<float> out;
             r.Accept(x.data(), static_cast<size_t>(x.size()), &out);
             return py::array_t<float>(static_cast<py::ssize_t>(out.size()), out.data());
           })
      .def("flush", [](Resampler &r) {
        std::vector<float> out;
        r.Flush(&out);
        return py::array_t<float>(static_cast<py::ssize_t>(out.size()), out.data());
      });

  py::class_<DecodedToken>(m, "DecodedToken")
      .def_readonly("id", &DecodedToken::id)
      .def_readonly("frame", &DecodedToken::frame)
      .def_readonly("end_frame", &DecodedToken::end_frame);
  py::class_<CtcDecoder>(m, "CtcDecoder")
      .def(py::init<const DecodingConfig &, int>(), py::arg("config"), py::arg("blank_id") = 0)
      .def(py::init([](const DecodingConfig &config, std::vector<std::string> tokens, std::shared_ptr<NgramLm> lm,
                       std::shared_ptr<ContextGraph> hotwords) {
             return std::make_unique<CtcDecoder>(config, std::move(tokens), 0, std::move(lm), std::move(hotwords));
           }),
           py::arg("config"), py::arg("tokens"), py::arg("lm") = nullptr, py::arg("hotwords") = nullptr,
           "Beam search over these tokens (blank = 0) with an optional LM and hotwords.")
      .def("accept",
           [](CtcDecoder &d, FloatArray lp, int64_t first_frame) {
             if (lp.ndim() != 2) throw py::value_error("log_probs must be (frames, vocab)");
             d.Accept(lp.data(), static_cast<int>(lp.shape(0)), static_cast<int>(lp.shape(1)), first_frame);
           },
           py::arg("log_probs"), py::arg("first_frame") = 0)
      .def("best", &CtcDecoder::Best)
      .def("final", &CtcDecoder::Final)
      .def("reset", &CtcDecoder::Reset);
  m.def("detokenize", &Detokenize, py::arg("pieces"));
  m.def(
      "read_wav",
      [](const std::string &path) {
        WavData w;
        {
          py::gil_scoped_release release;
          w = ReadWav(path);
        }
        return py::make_tuple(py::array_t<float>(static_cast<py::ssize_t>(w.samples.size()), w.samples.data()),
                              w.sample_rate);
      },
      py::arg("path"), "The C++ apps' WAV reader: -> (mono float32 samples, sample rate).");

  py::class_<TagAggregator>(m, "TagAggregator")
      .def(py::init<const TaggingConfig &, int, int>(), py::arg("config"), py::arg("num_classes"),
           py::arg("frame_shift_ms"))
      .def("accept",
           [](TagAggregator &t, FloatArray p) {
             if (p.ndim() != 2) throw py::value_error("probs must be (frames, classes)");
             t.Accept(p.data(), static_cast<int>(p.shape(0)));
           })
      .def("flush", &TagAggregator::Flush)
      .def("top_k", &TagAggregator::TopK)
      .def("active_events", &TagAggregator::ActiveEvents)
      .def("take_finished_events", &TagAggregator::TakeFinishedEvents)
      .def("take_started_events", &TagAggregator::TakeStartedEvents);
}

}  // namespace mt2kd
