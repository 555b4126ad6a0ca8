// TensorDataset: a labelled dataset (images or tabular features) held in memory as two tensors, so
// training slices batches from tensors (no per-sample work in the hot loop) and one process can
// share one copy among many logical clients.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace flotilla {

// The most classes a dataset read from a file may have: a label is an index into per-class
// vectors (label counts, a model's output layer), so a corrupt label of 2^40 must be refused
// before anything sizes a vector by it.
inline constexpr int64_t kMaxNumClasses = int64_t{1} << 20;

struct TensorDataset {
  // Model input, [N, C, ...] (images [N, C, H, W]; tabular features [N, F], each feature its own
  // channel), either raw pixels in uint8, as the image readers keep them (a quarter of the bytes
  // of float32 in every process and on the device, and nobody normalises images it never uses),
  // or float32 (generated data, a site's own files). Read rows through normalize().
  at::Tensor images;
  at::Tensor labels;  // int64 [N], each in [0, num_classes)
  int64_t num_classes = 10;
  // Per-channel (dimension 1) statistics of the inputs, on the 0..1 scale for uint8; empty when
  // the inputs need none (generated data is already normalised). Either empty or one per channel.
  std::vector<double> mean;
  std::vector<double> std;

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  // Rows at `indices` (int64 [K]); a copy, in the same representation.
  TensorDataset select(const at::Tensor& indices) const;
  // Model input from rows of `images` (a batch of rank >= 2, on any device; the result stays
  // there), float32: uint8 rows become x / 255, then, when `mean` is set, (x - mean[c]) / std[c]
  // for each channel c of dimension 1; float rows with `mean` empty come back as they are (the
  // same tensor). Elementwise, so normalising batch by batch gives the same values as the whole
  // set at once. A `mean` whose size is not the channel count is a bug (CHECK).
  at::Tensor normalize(const at::Tensor& rows) const;
  // Labels as a vector, for partitioners (which take labels in and give indices out).
  std::vector<int64_t> label_vector() const;
};

struct DatasetSplits {
  std::string name;  // "mnist", "fashion-mnist", "cifar10", "synthetic", "local" (a site's own files)
  TensorDataset train;
  TensorDataset test;
  std::vector<std::string> class_names;
  // Image geometry: height() and width() need [N, C, H, W] images (tabular data has channels only).
  int64_t channels() const { return train.images.size(1); }
  int64_t height() const { return train.images.size(2); }
  int64_t width() const { return train.images.size(3); }
};

}  // namespace flotilla
