// The `mt2kd_edge._core` extension module: one Bind* function per core header.
#include <pybind11/pybind11.h>

#include <stdexcept>

#include "mt2kd/version.h"

namespace py = pybind11;

namespace mt2kd {
void BindChunker(py::module_ &m);
void BindBackend(py::module_ &m);
void BindEngine(py::module_ &m);
void BindSpeakerStore(py::module_ &m);
void BindDsp(py::module_ &m);
void BindLm(py::module_ &m);
}  // namespace mt2kd

PYBIND11_MODULE(_core, m) {
  m.doc() = "mt2kd-edge C++ core";
  m.attr("__version__") = mt2kd::kCoreVersion;
  // std::logic_error (a misuse such as popping an empty chunker) surfaces as RuntimeError;
  // std::invalid_argument (bad audio) as ValueError, by pybind11's default translation.
  mt2kd::BindChunker(m);
  mt2kd::BindBackend(m);
  mt2kd::BindLm(m);
  mt2kd::BindSpeakerStore(m);
  mt2kd::BindEngine(m);  // after BindBackend, BindLm and BindSpeakerStore: its classes take their types
  mt2kd::BindDsp(m);
}
