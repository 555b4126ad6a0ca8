// MNIST and Fashion-MNIST in their official IDX format: {train,t10k}-images-idx3-ubyte and
// {train,t10k}-labels-idx1-ubyte, raw or gzip-compressed (.gz). IDX headers are big-endian: a
// magic number, then one uint32 per dimension, then the bytes. Functions are thread-compatible.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

// uint8 [N, rows, cols]. The file may be gzip-compressed (detected by content). DataLoss naming
// the file for a magic other than 0x00000803, or a size other than the header declares (the
// message gives both sizes and says "truncated" or "trailing data"); NotFound if it is missing.
StatusOr<at::Tensor> read_idx_images(const std::string& path);

// int64 [N]. Magic 0x00000801; a label outside 0..9 is DataLoss naming the file and the sample.
StatusOr<at::Tensor> read_idx_labels(const std::string& path);

// The readers above without the file: `bytes` is a whole (already decompressed) IDX file and
// `name` stands for its path in messages; the tensor owns `bytes`, uncopied. Same errors.
StatusOr<at::Tensor> parse_idx_images(std::string bytes, const std::string& name);
StatusOr<at::Tensor> parse_idx_labels(std::string bytes, const std::string& name);

// Loads DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte, or the same names with .gz (the raw file
// wins when both exist). Images stay uint8 [N, 1, H, W], with the training-set statistics of
// `name` for TensorDataset::normalize ("mnist": 0.1307, 0.3081; "fashion-mnist" or
// "fashion_mnist": 0.2860, 0.3530); labels int64 [N]. Errors: NotFound naming the missing path
// and the names tried; DataLoss when images and labels disagree in count or the splits in image
// size; InvalidArgument for another `name`.
StatusOr<DatasetSplits> load_mnist_dir(const std::string& dir, const std::string& name);

// Writers for tests and tools. images: uint8 [N, rows, cols]; labels: integer [N], each in
// 0..255 (the reader, not the writer, enforces 0..9, so tests can write bad files). Replaces
// `path`; gzip-compresses when `gzip`. InvalidArgument for other shapes or types.
Status write_idx_images(const std::string& path, const at::Tensor& images, bool gzip);
Status write_idx_labels(const std::string& path, const at::Tensor& labels, bool gzip);

}  // namespace flotilla
