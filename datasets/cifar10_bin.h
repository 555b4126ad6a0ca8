// CIFAR-10, binary version: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32)
// in data_batch_1..5.bin (train) and test_batch.bin (test).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

inline constexpr int64_t kCifarRecordBytes = 1 + 3 * 32 * 32;

// Raw records of one file: images uint8 [N, 3, 32, 32], labels int64 [N]. A size that is not a
// whole number of records, or a label above 9, is DataLoss naming the file (and the record).
struct CifarRecords {
  at::Tensor images;
  at::Tensor labels;
};
StatusOr<CifarRecords> read_cifar10_bin(const std::string& path);

// DIR holding cifar-10-batches-bin/, or that folder itself. Normalised per channel.
StatusOr<DatasetSplits> load_cifar10_dir(const std::string& dir);

// For tests and tools: images uint8 [N, 3, 32, 32], labels [N].
Status write_cifar10_bin(const std::string& path, const at::Tensor& images, const at::Tensor& labels);

}  // namespace flotilla
