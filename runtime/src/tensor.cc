#include "mt2kd/tensor.h"

#include <sstream>
#include <stdexcept>

namespace mt2kd {

std::string Tensor::ShapeString() const {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ")";
  return os.str();
}

Tensor Stack(const std::vector<const Tensor *> &items) {
  if (items.empty()) throw std::invalid_argument("Stack: no tensors");
  std::vector<int64_t> shape = items[0]->shape;
  shape[0] = 0;
  for (const Tensor *t : items) {
    if (t->shape.size() != shape.size() || t->Batch() != 1)
      throw std::invalid_argument("Stack: items must have batch 1 and equal rank, got " + t->ShapeString());
    shape[0] += 1;
  }
  Tensor out;
  out.shape = shape;
  out.data.reserve(Tensor::NumElements(shape));
  for (const Tensor *t : items) out.data.insert(out.data.end(), t->data.begin(), t->data.end());
  return out;
}

std::vector<Tensor> Unstack(const Tensor &batched) {
  std::vector<Tensor> out;
  const int64_t per = batched.PerItem();
  for (int64_t b = 0; b < batched.Batch(); ++b) {
    Tensor t;
    t.shape = batched.shape;
    t.shape[0] = 1;
    t.data.assign(batched.data.begin() + b * per, batched.data.begin() + (b + 1) * per);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace mt2kd
