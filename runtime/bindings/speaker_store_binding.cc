// Bindings for mt2kd/speaker_store.h.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mt2kd/speaker_store.h"

namespace py = pybind11;

namespace mt2kd {

static std::vector<float> Vec(const py::array_t<float, py::array::c_style | py::array::forcecast> &a) {
  if (a.ndim() != 1) throw py::value_error("an embedding is a 1-D array");
  return std::vector<float>(a.data(), a.data() + a.size());
}

void BindSpeakerStore(py::module_ &m) {
  py::class_<SpeakerMatch>(m, "SpeakerMatch")
      .def_property_readonly("name", [](const SpeakerMatch &s) -> py::object {
        return s.name.empty() ? py::none() : py::cast(s.name);
      })
      .def_readonly("score", &SpeakerMatch::score);
  py::class_<Verification>(m, "Verification")
      .def_readonly("name", &Verification::name)
      .def_readonly("score", &Verification::score)
      .def_readonly("accepted", &Verification::accepted);
  m.def("speaker_name_problem", &SpeakerNameProblem, py::arg("name"),
        "Why a name cannot name a speaker, or '' if it can.");
  py::class_<SpeakerStore>(m, "SpeakerStore")
      .def(py::init<int>(), py::arg("embedding_dim"))
      .def("enroll", [](SpeakerStore &s, const std::string &n, py::array_t<float> e) { s.Enroll(n, Vec(e)); },
           py::arg("name"), py::arg("embedding"))
      .def("identify", [](const SpeakerStore &s, py::array_t<float> e, float t) { return s.Identify(Vec(e), t); },
           py::arg("embedding"), py::arg("threshold"))
      .def("verify",
           [](const SpeakerStore &s, const std::string &n, py::array_t<float> e, float t) { return s.Verify(n, Vec(e), t); },
           py::arg("name"), py::arg("embedding"), py::arg("threshold"))
      .def("remove", &SpeakerStore::Remove, py::arg("name"))
      .def("names", &SpeakerStore::Names)
      .def("num_utterances", &SpeakerStore::NumUtterances, py::arg("name"))
      .def_property_readonly("embedding_dim", &SpeakerStore::EmbeddingDim)
      .def("save", &SpeakerStore::Save, py::arg("path"))
      .def_static("load", &SpeakerStore::Load, py::arg("path"));
}

}  // namespace mt2kd
