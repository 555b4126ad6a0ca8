#include <ATen/ATen.h>

#include "datasets/dataset.h"

namespace flotilla {

TensorDataset TensorDataset::select(const at::Tensor& indices) const {
  TensorDataset out;
  const at::Tensor idx = indices.to(images.device());
  out.images = images.index_select(0, idx);
  out.labels = labels.index_select(0, idx.to(labels.device()));
  out.num_classes = num_classes;
  return out;
}

std::vector<int64_t> TensorDataset::label_vector() const {
  const at::Tensor l = labels.to(at::kCPU).to(at::kLong).contiguous();
  return std::vector<int64_t>(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}

}  // namespace flotilla
