// One reading of a Python audio array for every binding that takes samples: 1-D, float32 in
// [-1, 1] or int16 PCM, anything else refused with the same words. The work runs without the GIL.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace mt2kd {

// Calls on_float(const float *, size_t) or on_int16(const int16_t *, size_t) on a C-contiguous view.
template <typename OnFloat, typename OnInt16>
void WithSamples(const pybind11::array &samples, OnFloat on_float, OnInt16 on_int16) {
  namespace py = pybind11;
  if (samples.ndim() != 1)
    throw py::value_error("samples must be a 1-D array (mono), got " + std::to_string(samples.ndim()) + " dimensions");
  if (samples.dtype().is(py::dtype::of<float>())) {
    auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(samples);
    py::gil_scoped_release release;
    on_float(a.data(), static_cast<std::size_t>(a.size()));
  } else if (samples.dtype().is(py::dtype::of<int16_t>())) {
    auto a = py::array_t<int16_t, py::array::c_style | py::array::forcecast>::ensure(samples);
    py::gil_scoped_release release;
    on_int16(a.data(), static_cast<std::size_t>(a.size()));
  } else {
    throw py::type_error("samples must be float32 in [-1, 1] or int16, got dtype " +
                         std::string(py::str(samples.dtype())));
  }
}

}  // namespace mt2kd
