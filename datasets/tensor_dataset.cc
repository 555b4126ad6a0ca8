#include <ATen/core/Tensor.h>
#include <ATen/ops/tensor.h>

#include "core/check.h"
#include "datasets/dataset.h"

namespace flotilla {

TensorDataset TensorDataset::select(const at::Tensor& indices) const {
  // Indices come from our own partitioners, so a bad one is a bug: fail loudly here rather than
  // let a c10::Error escape from deep inside index_select.
  FLOTILLA_CHECK(indices.defined() && indices.dim() == 1 && indices.scalar_type() == at::kLong)
      << "TensorDataset::select wants int64 [K] indices";
  if (indices.numel() > 0) {
    const int64_t lo = indices.min().item<int64_t>(), hi = indices.max().item<int64_t>();
    FLOTILLA_CHECK(lo >= 0 && hi < size())
        << "TensorDataset::select index range [" << lo << ", " << hi << "] outside a dataset of " << size();
  }
  TensorDataset out;
  out.images = images.index_select(0, indices.to(images.device()));
  out.labels = labels.index_select(0, indices.to(labels.device()));
  out.num_classes = num_classes;
  out.mean = mean;
  out.std = std;
  return out;
}

at::Tensor TensorDataset::normalize(const at::Tensor& rows) const {
  if (rows.scalar_type() != at::kByte) return rows;
  FLOTILLA_CHECK(rows.dim() == 4 && static_cast<size_t>(rows.size(1)) == mean.size() && mean.size() == std.size())
      << "uint8 images need one mean and std per channel: " << rows.size(1) << " channels, " << mean.size()
      << " means, " << std.size() << " stds";
  // Per-channel scalars, not tensors of the means and stds: a tensor built on the host would be
  // copied to the device at every batch, a synchronous copy on a GPU.
  at::Tensor x = rows.to(at::kFloat).div_(255.0);
  for (int64_t c = 0; c < rows.size(1); ++c) {
    const auto i = static_cast<size_t>(c);
    x.select(1, c).sub_(static_cast<float>(mean[i])).div_(static_cast<float>(std[i]));
  }
  return x;
}

std::vector<int64_t> TensorDataset::label_vector() const {
  if (!labels.defined()) return {};
  const at::Tensor l = labels.to(at::kCPU, at::kLong).contiguous();
  const int64_t* p = l.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + l.numel());
}

}  // namespace flotilla
