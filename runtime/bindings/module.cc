// The `mt2kd_edge._core` extension module: one Bind* function per core header.
#include <pybind11/pybind11.h>

#include <stdexcept>

#include "mt2kd/version.h"

namespace py = pybind11;

namespace mt2kd {
void BindChunker(py::module_ &m);
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "mt2kd-edge C++ core";
  m.attr("__version__") = mt2kd::kCoreVersion;
  // std::logic_error (a misuse such as popping an empty chunker) surfaces as RuntimeError;
  // std::invalid_argument (bad audio) as ValueError, by pybind11's default translation.
  mt2kd::BindChunker(m);
}
