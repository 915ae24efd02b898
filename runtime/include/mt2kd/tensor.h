// A plain float tensor: row-major data plus its full shape (batch first, as in the spec).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mt2kd {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s) : shape(std::move(s)), data(NumElements(shape), 0.0f) {}

  static int64_t NumElements(const std::vector<int64_t> &s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
  }
  int64_t Batch() const { return shape.empty() ? 0 : shape[0]; }
  int64_t PerItem() const { return Batch() ? static_cast<int64_t>(data.size()) / Batch() : 0; }
  std::string ShapeString() const;
};

// Stacks single-item tensors (each with batch 1) along dim 0, and splits them again.
Tensor Stack(const std::vector<const Tensor *> &items);
std::vector<Tensor> Unstack(const Tensor &batched);

}  // namespace mt2kd
