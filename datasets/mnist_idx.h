// MNIST and Fashion-MNIST in their official IDX format: {train,t10k}-images-idx3-ubyte and
// {train,t10k}-labels-idx1-ubyte, raw or gzip-compressed (.gz).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

// uint8 [N, rows, cols]. Checks the magic number (0x00000803), that the file holds exactly the
// bytes its header declares (truncated or trailing data: DataLoss naming the file and sizes).
StatusOr<at::Tensor> read_idx_images(const std::string& path);
// int64 [N]. Magic 0x00000801; labels must be in [0, 9].
StatusOr<at::Tensor> read_idx_labels(const std::string& path);

// Loads DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] and normalises the images with the
// dataset's mean and std (`name` is "mnist" or "fashion-mnist").
StatusOr<DatasetSplits> load_mnist_dir(const std::string& dir, const std::string& name);

// Writers for tests and tools: images uint8 [N, rows, cols], labels integer [N].
Status write_idx_images(const std::string& path, const at::Tensor& images, bool gzip);
Status write_idx_labels(const std::string& path, const at::Tensor& labels, bool gzip);

}  // namespace flotilla
