// The one interface between the runtime and a model runner.
//
// A backend runs the exported streaming step: samples (B, chunk_samples) and the state tensors
// in spec order go in; the outputs and the new states, in spec order, come out. Everything the
// runtime knows about shapes comes from Info(). Backends must be safe to call from several
// threads (the engine is shared); a backend that is not serialises internally.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mt2kd/model_info.h"
#include "mt2kd/tensor.h"

namespace mt2kd {

struct StepResult {
  std::vector<Tensor> outputs;  // spec order, batch first
  std::vector<Tensor> states;   // spec order, batch first
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const ModelInfo &Info() const = 0;
  // samples: batch * chunk_samples floats, row-major; states: spec order, each with this batch.
  virtual StepResult Step(int batch, const std::vector<float> &samples, const std::vector<Tensor> &states) = 0;
  // The largest batch one Step call takes (0: any). The engine splits bigger batches.
  virtual int MaxBatch() const { return 0; }
  virtual std::string Name() const = 0;
};

// ExecuTorch (.pte, XNNPACK delegate), native C++. Throws std::invalid_argument naming the file
// if it is missing, not a program, or carries no mt2kd metadata.
// threads == 1: each call runs on its caller's thread, and calls from different threads (different
// streams) run in parallel on their own copies of the program's buffers. threads > 1: one stream's
// call uses ExecuTorch's process-wide thread pool, and calls take turns.
std::shared_ptr<Backend> CreateExecuTorchBackend(const std::string &pte_path, int threads = 1);

// ExecuTorch's own Info/Debug log lines (cpuinfo probing on every load) are dropped unless verbose
// logs are asked for here or with MT2KD_VERBOSE=1; its errors always reach stderr. The filter is
// installed by CreateExecuTorchBackend (before the first load), or by either call below.
void SetExecuTorchVerboseLogs(bool verbose);
void InstallExecuTorchLogFilter();

}  // namespace mt2kd
