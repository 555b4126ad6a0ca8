// CIFAR-10, binary version: records of 1 label byte + 3072 pixel bytes (the R, G and B planes of a
// 32x32 image, each row-major) in data_batch_1..5.bin (train) and test_batch.bin (test), as
// extracted from cifar-10-binary.tar.gz. Functions are thread-compatible.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

inline constexpr int64_t kCifarImageBytes = 3 * 32 * 32;
inline constexpr int64_t kCifarRecordBytes = 1 + kCifarImageBytes;

// The records of one file, without a copy: both tensors view the file's bytes (so `images` is
// strided; call .contiguous() for a packed copy).
struct CifarRecords {
  at::Tensor images;  // uint8 [N, 3, 32, 32], channels R, G, B
  at::Tensor labels;  // int64 [N], each in 0..9
};

// DataLoss naming the file when it is empty or its size is not a multiple of 3073 bytes, or
// naming the file and the record when a label is above 9; NotFound when it is missing.
StatusOr<CifarRecords> read_cifar10_bin(const std::string& path);

// read_cifar10_bin without the file: `bytes` is a whole (already decompressed) batch file and
// `name` stands for its path in messages; the tensors own `bytes`, uncopied. Same errors.
StatusOr<CifarRecords> parse_cifar10_bin(std::string bytes, const std::string& name);

// DIR/cifar-10-batches-bin/ if that folder exists, else DIR itself: train = data_batch_1..5.bin in
// order, test = test_batch.bin. Images stay uint8 [N, 3, 32, 32] with mean (0.4914, 0.4822, 0.4465)
// and std (0.2470, 0.2435, 0.2616) for TensorDataset::normalize; class names come from
// batches.meta.txt when it lists ten, else the standard ones. NotFound names the first missing
// file and the folder searched; file errors are those of read_cifar10_bin.
StatusOr<DatasetSplits> load_cifar10_dir(const std::string& dir);

// For tests and tools: writes `path` (replacing it) as CIFAR-10 records. images: uint8
// [N, 3, 32, 32]; labels: integer [N] in 0..255 (the reader enforces 0..9, so tests can write bad
// files). InvalidArgument for other shapes or types.
Status write_cifar10_bin(const std::string& path, const at::Tensor& images, const at::Tensor& labels);

}  // namespace flotilla
