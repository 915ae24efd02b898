// Python bindings for mt2kd/chunker.h. Calls that do work release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mt2kd/chunker.h"
#include "samples_array.h"

namespace py = pybind11;

namespace mt2kd {

static void AcceptWaveform(Chunker &self, int sample_rate, const py::array &samples) {
  WithSamples(
      samples, [&](const float *p, std::size_t n) { self.AcceptFloat(sample_rate, p, n); },
      [&](const int16_t *p, std::size_t n) { self.AcceptInt16(sample_rate, p, n); });
}

void BindChunker(py::module_ &m) {
  py::class_<ChunkerConfig>(m, "ChunkerConfig")
      .def(py::init<>())
      .def(py::init([](int sample_rate, int chunk_samples, float max_abs_sample) {
             ChunkerConfig c{sample_rate, chunk_samples, max_abs_sample};
             c.Validate();
             return c;
           }),
           py::arg("sample_rate") = 16000, py::arg("chunk_samples") = 5120, py::arg("max_abs_sample") = 2.0f)
      .def_readwrite("sample_rate", &ChunkerConfig::sample_rate)
      .def_readwrite("chunk_samples", &ChunkerConfig::chunk_samples)
      .def_readwrite("max_abs_sample", &ChunkerConfig::max_abs_sample)
      .def("validate", &ChunkerConfig::Validate)
      .def("__repr__", &ChunkerConfig::ToString);

  py::class_<Chunker>(m, "Chunker", "Buffers audio of any piece size into fixed model chunks.")
      .def(py::init<const ChunkerConfig &>(), py::arg("config"))
      .def("accept_waveform", &AcceptWaveform, py::arg("sample_rate"), py::arg("samples"),
           "Append float32 samples in [-1, 1] or int16 PCM. Bad input raises and appends nothing.")
      .def("input_finished", [](Chunker &c) { c.InputFinished(); }, "Zero-pad the tail to a whole chunk; no more audio.")
      .def("is_ready", &Chunker::IsReady)
      .def_property_readonly("is_finished", &Chunker::IsFinished)
      .def("pop_chunk",
           [](Chunker &self) {
             std::vector<float> chunk;
             {
               py::gil_scoped_release release;
               chunk = self.PopChunk();
             }
             return py::array_t<float>(static_cast<py::ssize_t>(chunk.size()), chunk.data());
           },
           "The next whole chunk as float32 (chunk_samples,). Raises if none is ready.")
      .def("reset", &Chunker::Reset)
      .def_property_readonly("num_samples_accepted", &Chunker::NumSamplesAccepted)
      .def_property_readonly("num_chunks_popped", &Chunker::NumChunksPopped)
      .def_property_readonly("num_buffered_samples", &Chunker::NumBufferedSamples)
      .def_property_readonly("config", &Chunker::Config);
}

}  // namespace mt2kd
