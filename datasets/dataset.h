// TensorDataset: a labelled image dataset held in memory as two tensors, so training slices
// batches from tensors (no per-sample work in the hot loop) and one process can share one copy
// among many logical clients.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace flotilla {

struct TensorDataset {
  at::Tensor images;         // float32 [N, C, H, W], already normalised with the dataset's mean/std
  at::Tensor labels;         // int64 [N], each in [0, num_classes)
  int64_t num_classes = 10;

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  // Rows at `indices` (int64 [K]); a copy.
  TensorDataset select(const at::Tensor& indices) const;
  // Labels as a vector, for partitioners (which take labels in and give indices out).
  std::vector<int64_t> label_vector() const;
};

struct DatasetSplits {
  std::string name;          // "mnist", "fashion-mnist", "cifar10", "synthetic"
  TensorDataset train;
  TensorDataset test;
  std::vector<std::string> class_names;
  int64_t channels() const { return train.images.size(1); }
  int64_t height() const { return train.images.size(2); }
  int64_t width() const { return train.images.size(3); }
};

}  // namespace flotilla
