// Bindings for mt2kd/model_info.h and mt2kd/backend.h, including the Python trampoline backend:
// a Backend whose Step calls back into Python (how the ONNX path reaches onnxruntime, whose
// wheel ships no C headers).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "mt2kd/backend.h"

namespace py = pybind11;

namespace mt2kd {

namespace {

py::array_t<float> ToNumpy(const Tensor &t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  py::array_t<float> a(shape);
  std::copy(t.data.begin(), t.data.end(), a.mutable_data());
  return a;
}

Tensor FromNumpy(const py::handle &obj, const std::string &what) {
  auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a) throw std::runtime_error("python backend returned a non-array for " + what);
  Tensor t;
  t.shape.assign(a.shape(), a.shape() + a.ndim());
  t.data.assign(a.data(), a.data() + a.size());
  return t;
}

// Calls `step(samples: ndarray (B, S), states: list[ndarray]) -> (outputs, states)` in Python.
class PythonBackend : public Backend {
 public:
  PythonBackend(const std::string &metadata_json, const std::string &where, py::object step, int max_batch,
                std::string name)
      : info_(ModelInfo::FromJson(metadata_json, where)), step_(std::move(step)), max_batch_(max_batch),
        name_(std::move(name)) {}
  ~PythonBackend() override {
    py::gil_scoped_acquire gil;
    step_ = py::object();
  }

  const ModelInfo &Info() const override { return info_; }
  int MaxBatch() const override { return max_batch_; }
  std::string Name() const override { return name_; }

  StepResult Step(int batch, const std::vector<float> &samples, const std::vector<Tensor> &states) override {
    py::gil_scoped_acquire gil;
    py::array_t<float> x({static_cast<py::ssize_t>(batch), static_cast<py::ssize_t>(info_.chunk_samples)});
    std::copy(samples.begin(), samples.end(), x.mutable_data());
    py::list in_states;
    for (const auto &s : states) in_states.append(ToNumpy(s));
    py::tuple result = step_(x, in_states);
    if (result.size() != 2) throw std::runtime_error("python backend step must return (outputs, states)");
    StepResult out;
    for (auto o : result[0].cast<py::list>()) out.outputs.push_back(FromNumpy(o, "an output"));
    for (auto s : result[1].cast<py::list>()) out.states.push_back(FromNumpy(s, "a state"));
    return out;
  }

 private:
  ModelInfo info_;
  py::object step_;
  int max_batch_;
  std::string name_;
};

}  // namespace

void BindBackend(py::module_ &m) {
  py::class_<TensorInfo>(m, "TensorInfo")
      .def_readonly("name", &TensorInfo::name)
      .def_readonly("shape", &TensorInfo::shape)
      .def_readonly("reset_at_segment", &TensorInfo::reset_at_segment);
  py::class_<LabelInfo>(m, "LabelInfo").def_readonly("mid", &LabelInfo::mid).def_readonly("name", &LabelInfo::name);
  py::class_<ModelInfo>(m, "ModelInfo")
      .def_static("from_json", &ModelInfo::FromJson, py::arg("json"), py::arg("where") = "metadata")
      .def_readonly("sample_rate", &ModelInfo::sample_rate)
      .def_readonly("chunk_samples", &ModelInfo::chunk_samples)
      .def_readonly("frames_per_chunk", &ModelInfo::frames_per_chunk)
      .def_readonly("frame_shift_ms", &ModelInfo::frame_shift_ms)
      .def_readonly("input_name", &ModelInfo::input_name)
      .def_readonly("where", &ModelInfo::where)
      .def_readonly("outputs", &ModelInfo::outputs)
      .def_readonly("states", &ModelInfo::states)
      .def_readonly("tokens", &ModelInfo::tokens)
      .def_readonly("labels", &ModelInfo::labels)
      .def_readonly("backend", &ModelInfo::backend)
      .def_readonly("precision", &ModelInfo::precision)
      .def_readonly("json", &ModelInfo::json);

  py::class_<Backend, std::shared_ptr<Backend>>(m, "Backend")
      .def_property_readonly("info", &Backend::Info, py::return_value_policy::reference_internal)
      .def_property_readonly("name", &Backend::Name)
      .def_property_readonly("max_batch", &Backend::MaxBatch);

  m.def("create_executorch_backend", &CreateExecuTorchBackend, py::arg("pte_path"), py::arg("threads") = 1,
        py::call_guard<py::gil_scoped_release>(),
        "Load a .pte (XNNPACK) exported by mt2kd-edge. threads=1: each stream steps on its caller's thread, and "
        "streams stepped from different threads run in parallel; threads>1: ExecuTorch's shared thread pool, "
        "one stream at a time.");
  m.def("set_executorch_verbose_logs", &SetExecuTorchVerboseLogs, py::arg("verbose"),
        "Show ExecuTorch's Info/Debug log lines on stderr (default: only its errors, unless MT2KD_VERBOSE=1).");
  m.def(
      "create_python_backend",
      [](const std::string &metadata_json, const std::string &where, py::object step, int max_batch,
         const std::string &name) -> std::shared_ptr<Backend> {
        return std::make_shared<PythonBackend>(metadata_json, where, std::move(step), max_batch, name);
      },
      py::arg("metadata_json"), py::arg("where"), py::arg("step"), py::arg("max_batch") = 0, py::arg("name") = "python",
      "A backend whose step(samples, states) -> (outputs, states) is a Python callable.");
}

}  // namespace mt2kd
