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
  // Either raw pixels, uint8 [N, C, H, W], as the image readers keep them (a quarter of the bytes
  // of float32 in every process and on the device, and nobody normalises images it never uses),
  // or float32 [N, C, H, W] already normalised (generated data). Read pixels through normalize().
  at::Tensor images;
  at::Tensor labels;  // int64 [N], each in [0, num_classes)
  int64_t num_classes = 10;
  // Per-channel statistics of uint8 images on the 0..1 scale; empty for float images.
  std::vector<double> mean;
  std::vector<double> std;

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  // Rows at `indices` (int64 [K]); a copy, in the same representation.
  TensorDataset select(const at::Tensor& indices) const;
  // Model input from rows of `images` (a batch, on any device; the result stays there): uint8
  // rows become float32 (x / 255 - mean[c]) / std[c], float rows come back as they are.
  // Elementwise, so normalising batch by batch gives the same values as the whole set at once.
  at::Tensor normalize(const at::Tensor& rows) const;
  // Labels as a vector, for partitioners (which take labels in and give indices out).
  std::vector<int64_t> label_vector() const;
};

struct DatasetSplits {
  std::string name;  // "mnist", "fashion-mnist", "cifar10", "synthetic"
  TensorDataset train;
  TensorDataset test;
  std::vector<std::string> class_names;
  int64_t channels() const { return train.images.size(1); }
  int64_t height() const { return train.images.size(2); }
  int64_t width() const { return train.images.size(3); }
};

}  // namespace flotilla
