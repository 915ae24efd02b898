// ExecuTorch backend: runs the exported .pte through executorch::extension::Module.
//
// Streams decode in parallel: a Module keeps per-method buffers, so one Module serves one call at a
// time, and the backend keeps a pool of them, one per concurrent caller, grown on demand (the program
// is mmapped once; each Module adds its planned activations and XNNPACK's packed weights).
// With threads == 1 each Module is loaded under NoThreadPoolGuard: XNNPACK binds a runtime to the
// thread pool at load time, and without one it runs on the calling thread, so N threads stepping N
// streams use N cores. With threads > 1 the one Module uses ExecuTorch's process-wide pool (intra-op
// parallelism for a single stream); that pool takes one caller at a time, so calls are serialised.
// XNNPACK's pip build shares one workspace (activation arena) across every loaded program and locks it
// for each delegate call ("Global" sharing), which serialised the pool's Modules too: the backend asks
// for one workspace per program instead ("PerModel"), so each Module has its own arena, while XNNPACK's
// weights cache still shares the packed weights between them.
#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>
#include <executorch/extension/threadpool/threadpool_guard.h>
#include <executorch/runtime/backend/interface.h>
#include <executorch/runtime/backend/options.h>

#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "mt2kd/backend.h"

namespace mt2kd {

namespace {

using executorch::extension::Module;
using executorch::runtime::EValue;

constexpr const char *kMetadataMethod = "mt2kd_metadata";

// XNNPACK's WorkspaceSharingMode (backends/xnnpack/runtime/XNNPACKBackend.h, not shipped in the wheel's
// headers): 0 Disabled, 1 PerModel, 2 Global.
constexpr int kXnnpackWorkspacePerModel = 1;

// Once per process, before the first program loads (the mode applies to programs loaded after it).
void UseOneWorkspacePerProgram() {
  static const bool done = [] {
    executorch::runtime::BackendOptions<1> options;
    (void)options.set_option("workspace_sharing_mode", kXnnpackWorkspacePerModel);
    // A build without XNNPACK, or one that does not know the option, keeps its default: still correct, only serial.
    (void)executorch::runtime::set_option("XnnpackBackend", options.view());
    return true;
  }();
  (void)done;
}

class ExecuTorchBackend : public Backend {
 public:
  ExecuTorchBackend(const std::string &path, int threads) : path_(path), threads_(threads) {
    if (threads < 1) throw std::invalid_argument("threads must be at least 1, got " + std::to_string(threads));
    if (!std::ifstream(path).good()) throw std::invalid_argument(path + ": model file not found");
    UseOneWorkspacePerProgram();
    auto module = std::make_unique<Module>(path, Module::LoadMode::Mmap);
    auto names = module->method_names();
    if (!names.ok()) throw std::invalid_argument(path + ": not a loadable ExecuTorch program");
    if (!names->count(kMetadataMethod))
      throw std::invalid_argument(path + ": program has no 'mt2kd_metadata' method (not exported by mt2kd-edge?)");
    auto meta = module->execute(kMetadataMethod);
    if (!meta.ok() || meta->empty() || !(*meta)[0].isString())
      throw std::invalid_argument(path + ": could not read the program's metadata");
    auto text = (*meta)[0].toString();
    info_ = ModelInfo::FromJson(std::string(text.data(), text.size()), path);
    LoadForward(*module);
    CheckSignature(*module);
    idle_.push_back(std::move(module));
  }

  // Loads (and, through the XNNPACK delegate, compiles) the forward method; see the file comment for
  // why the thread-pool guard is held here and not around each call.
  void LoadForward(Module &module) const {
    std::optional<executorch::extension::threadpool::NoThreadPoolGuard> inline_on_caller;
    if (threads_ == 1) inline_on_caller.emplace();
    if (module.load_method("forward") != executorch::runtime::Error::Ok)
      throw std::invalid_argument(path_ + ": the program's forward method does not load");
  }

  // A Module no other call is using: an idle one, or a new one when all are busy.
  std::unique_ptr<Module> Acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      if (!idle_.empty()) {
        auto module = std::move(idle_.back());
        idle_.pop_back();
        return module;
      }
    }
    auto module = std::make_unique<Module>(path_, Module::LoadMode::Mmap);
    LoadForward(*module);
    return module;
  }

  void Release(std::unique_ptr<Module> module) {
    std::lock_guard<std::mutex> lock(pool_mutex_);
    idle_.push_back(std::move(module));
  }

  // The metadata's tensors against the program's own: a hand-edited or mismatched metadata
  // string must not size the runtime's buffers (the Engine's test step then checks the values).
  void CheckSignature(Module &module) {
    auto meta = module.method_meta("forward");
    if (!meta.ok()) throw std::invalid_argument(path_ + ": cannot read the forward method's signature");
    std::vector<std::pair<std::string, std::vector<int64_t>>> inputs{{info_.input_name, {info_.chunk_samples}}};
    for (const auto &s : info_.states) inputs.emplace_back(s.name, s.shape);
    std::vector<std::pair<std::string, std::vector<int64_t>>> outputs;
    for (const auto &o : info_.outputs) outputs.emplace_back(o.name, o.shape);
    for (const auto &s : info_.states) outputs.emplace_back("new " + s.name, s.shape);
    if (meta->num_inputs() != inputs.size() || meta->num_outputs() != outputs.size())
      throw std::invalid_argument(path_ + ": the program takes " + std::to_string(meta->num_inputs()) +
                                  " inputs and returns " + std::to_string(meta->num_outputs()) +
                                  " tensors; its metadata describes " + std::to_string(inputs.size()) + " and " +
                                  std::to_string(outputs.size()));
    auto check = [&](const char *kind, size_t i, auto tensor_meta, const auto &expected) {
      if (!tensor_meta.ok()) throw std::invalid_argument(path_ + ": cannot read the program's " + kind + " " + expected.first);
      std::vector<int64_t> got(tensor_meta->sizes().begin(), tensor_meta->sizes().end());
      std::vector<int64_t> want{1};
      want.insert(want.end(), expected.second.begin(), expected.second.end());
      if (got != want || tensor_meta->scalar_type() != executorch::aten::ScalarType::Float)
        throw std::invalid_argument(path_ + ": the program's " + kind + " " + std::to_string(i) + " (" + expected.first +
                                    ") is " + Shape(got) + (tensor_meta->scalar_type() == executorch::aten::ScalarType::Float ? "" : " non-float") +
                                    " but its metadata says float32 " + Shape(want));
    };
    for (size_t i = 0; i < inputs.size(); ++i) check("input", i, meta->input_tensor_meta(i), inputs[i]);
    for (size_t i = 0; i < outputs.size(); ++i) check("output", i, meta->output_tensor_meta(i), outputs[i]);
  }

  static std::string Shape(const std::vector<int64_t> &s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + ")";
  }

  const ModelInfo &Info() const override { return info_; }
  int MaxBatch() const override { return 1; }  // exported with a fixed batch of one
  std::string Name() const override { return "executorch"; }

  StepResult Step(int batch, const std::vector<float> &samples, const std::vector<Tensor> &states) override {
    if (batch != 1) throw std::invalid_argument("the ExecuTorch backend steps one stream per call");
    // threads > 1: the shared pool takes one caller at a time (the pool of Modules then holds one)
    std::unique_lock<std::mutex> serial(serial_mutex_, std::defer_lock);
    if (threads_ > 1) serial.lock();
    std::unique_ptr<Module> module = Acquire();
    struct ReleaseOnExit {
      ExecuTorchBackend *self;
      std::unique_ptr<Module> &module;
      ~ReleaseOnExit() { self->Release(std::move(module)); }
    } release{this, module};
    std::vector<executorch::extension::TensorPtr> keep;
    std::vector<EValue> inputs;
    keep.reserve(states.size() + 1);
    keep.push_back(executorch::extension::from_blob(const_cast<float *>(samples.data()), {1, info_.chunk_samples}));
    for (const Tensor &s : states) {
      std::vector<executorch::aten::SizesType> sizes(s.shape.begin(), s.shape.end());
      keep.push_back(executorch::extension::from_blob(const_cast<float *>(s.data.data()), sizes));
    }
    for (auto &t : keep) inputs.emplace_back(*t);
    auto result = module->forward(inputs);
    if (!result.ok())
      throw std::runtime_error(path_ + ": forward failed (ExecuTorch error " +
                               std::to_string(static_cast<int>(result.error())) + ")");
    StepResult out;
    const size_t n_out = info_.outputs.size();
    for (size_t i = 0; i < result->size(); ++i) {
      if (!(*result)[i].isTensor() || (*result)[i].toTensor().scalar_type() != executorch::aten::ScalarType::Float)
        throw std::runtime_error(path_ + ": forward returned a non-float output " + std::to_string(i));
      const auto &t = (*result)[i].toTensor();
      Tensor copy;
      copy.shape.assign(t.sizes().begin(), t.sizes().end());
      const float *p = t.const_data_ptr<float>();
      copy.data.assign(p, p + t.numel());
      (i < n_out ? out.outputs : out.states).push_back(std::move(copy));
    }
    return out;
  }

 private:
  std::string path_;
  int threads_;
  ModelInfo info_;
  std::mutex pool_mutex_;    // guards idle_
  std::vector<std::unique_ptr<Module>> idle_;
  std::mutex serial_mutex_;  // threads > 1 only
};

}  // namespace

std::shared_ptr<Backend> CreateExecuTorchBackend(const std::string &pte_path, int threads) {
  InstallExecuTorchLogFilter();
  return std::make_shared<ExecuTorchBackend>(pte_path, threads);
}

}  // namespace mt2kd
