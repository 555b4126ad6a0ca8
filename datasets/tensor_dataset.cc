#include <ATen/core/Tensor.h>
#include <ATen/ops/tensor.h>

#include "core/check.h"
#include "datasets/dataset.h"

namespace flotilla {
namespace {

// Up to this many channels (images have 1 or 3), normalize works channel by channel with scalars.
constexpr int64_t kScalarChannels = 16;

}  // namespace

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
  const bool bytes = rows.scalar_type() == at::kByte;
  if (!bytes && mean.empty()) return rows;
  FLOTILLA_CHECK(rows.dim() >= 2 && mean.size() == std.size() &&
                 (mean.empty() || static_cast<size_t>(rows.size(1)) == mean.size()))
      << "normalize needs one mean and std per channel (or none): " << (rows.dim() >= 2 ? rows.size(1) : 0)
      << " channels, " << mean.size() << " means, " << std.size() << " stds";
  // A copy either way: float rows are the caller's (often the dataset itself) and the channel
  // loop below works in place.
  at::Tensor x = bytes ? rows.to(at::kFloat).div_(255.0) : rows.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  const int64_t channels = rows.size(1);
  if (mean.empty()) return x;
  if (channels <= kScalarChannels) {
    // Per-channel scalars, not tensors of the means and stds: a tensor built on the host would be
    // copied to the device at every batch, a synchronous copy on a GPU.
    for (int64_t c = 0; c < channels; ++c) {
      const auto i = static_cast<size_t>(c);
      x.select(1, c).sub_(static_cast<float>(mean[i])).div_(static_cast<float>(std[i]));
    }
    return x;
  }
  // Many channels (tabular features): two small kernels per channel would cost more than the one
  // host-to-device copy of the statistics.
  std::vector<int64_t> shape(static_cast<size_t>(rows.dim()), 1);
  shape[1] = channels;
  const std::vector<float> m(mean.begin(), mean.end()), s(std.begin(), std.end());
  x.sub_(at::tensor(m, at::kFloat).view(shape).to(x.device()))
      .div_(at::tensor(s, at::kFloat).view(shape).to(x.device()));
  return x;
}

std::vector<int64_t> TensorDataset::label_vector() const {
  if (!labels.defined()) return {};
  const at::Tensor l = labels.to(at::kCPU, at::kLong).contiguous();
  const int64_t* p = l.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + l.numel());
}

}  // namespace flotilla
