// Bindings for mt2kd/ngram_lm.h and mt2kd/context_graph.h: the word LM (loaded, scored, compiled
// from ARPA by `python -m train.lm`) and hotword lists.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mt2kd/context_graph.h"
#include "mt2kd/ngram_lm.h"

namespace py = pybind11;

namespace mt2kd {

void BindLm(py::module_ &m) {
  py::class_<NgramLm, std::shared_ptr<NgramLm>>(m, "NgramLm")
      .def_static(
          "load", [](const std::string &path) { return std::const_pointer_cast<NgramLm>(NgramLm::Load(path)); },
          py::arg("path"), py::call_guard<py::gil_scoped_release>(),
          "Load an ARPA or mt2kd binary LM; ValueError naming the file if it is missing or corrupt.")
      .def_static(
          "from_arpa", [](const std::string &text, const std::string &where) { return NgramLm::FromArpa(text, where); },
          py::arg("text"), py::arg("where") = "<arpa>")
      .def("save", &NgramLm::Save, py::arg("path"), py::call_guard<py::gil_scoped_release>(),
           "Write the compact binary form atomically.")
      .def("to_binary", [](const NgramLm &lm) { return py::bytes(lm.ToBinary()); })
      .def_property_readonly("order", &NgramLm::Order)
      .def_property_readonly("vocab_size", &NgramLm::VocabSize)
      .def_property_readonly("counts", &NgramLm::Counts)
      .def("knows", &NgramLm::Knows, py::arg("word"))
      .def(
          "sentence_score",
          [](const NgramLm &lm, const std::vector<std::string> &words, bool end) {
            // natural-log probability of the words after <s> (and </s> when `end`)
            LmState state = lm.BeginState();
            double total = 0;
            for (const auto &w : words) total += lm.Score(state, lm.WordId(w), &state);
            if (end) total += lm.EndScore(state);
            return total;
          },
          py::arg("words"), py::arg("end") = true);

  py::class_<Hotword>(m, "Hotword")
      .def(py::init([](std::string phrase, float boost) { return Hotword{std::move(phrase), boost}; }), py::arg("phrase"),
           py::arg("boost") = 0.0f)
      .def_readwrite("phrase", &Hotword::phrase)
      .def_readwrite("boost", &Hotword::boost)
      .def("__repr__", [](const Hotword &h) { return "Hotword('" + h.phrase + "', " + std::to_string(h.boost) + ")"; });
  m.def("parse_hotwords", &ParseHotwords, py::arg("text"), py::arg("where") = "<hotwords>",
        "Hotwords from a file's text: one phrase per line, optionally ' :BOOST'; ValueError naming the line.");
  py::class_<ContextGraph, std::shared_ptr<ContextGraph>>(m, "ContextGraph")
      .def(py::init<const std::vector<Hotword> &, float, const std::vector<std::string> &>(), py::arg("hotwords"),
           py::arg("default_boost"), py::arg("tokens"))
      .def_property_readonly("num_phrases", &ContextGraph::NumPhrases);
  m.attr("MAX_HOTWORDS") = kMaxHotwords;
  m.attr("MAX_HOTWORD_BOOST") = kMaxHotwordBoost;
}

}  // namespace mt2kd
