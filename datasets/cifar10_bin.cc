#include "datasets/cifar10_bin.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <cstring>

#include "datasets/file_bytes.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

StatusOr<TensorDataset> load_files(const std::vector<std::string>& paths) {
  std::vector<at::Tensor> images, labels;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(CifarRecords r, read_cifar10_bin(path));
    images.push_back(r.images);
    labels.push_back(r.labels);
  }
  TensorDataset d;
  const at::Tensor mean = at::tensor({0.4914, 0.4822, 0.4465}, at::kFloat).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({0.2470, 0.2435, 0.2616}, at::kFloat).view({1, 3, 1, 1});
  d.images = at::cat(images).to(at::kFloat).div_(255.0).sub_(mean).div_(std);
  d.labels = at::cat(labels);
  d.num_classes = 10;
  return d;
}

std::vector<std::string> class_names(const fs::path& folder) {
  std::vector<std::string> names;
  std::ifstream in(folder / "batches.meta.txt");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) names.push_back(line);
  if (names.size() != 10)
    names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return names;
}

}  // namespace

StatusOr<CifarRecords> read_cifar10_bin(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, read_file_bytes(path));
  if (bytes.empty() || bytes.size() % kCifarRecordBytes != 0) {
    return data_loss_error(path + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                           std::to_string(kCifarRecordBytes) + "-byte CIFAR-10 records");
  }
  const int64_t n = static_cast<int64_t>(bytes.size()) / kCifarRecordBytes;
  at::Tensor raw = at::empty({n, kCifarRecordBytes}, at::kByte);
  std::memcpy(raw.data_ptr(), bytes.data(), bytes.size());
  CifarRecords r;
  r.labels = raw.select(1, 0).to(at::kLong);
  const int64_t bad = r.labels.gt(9).nonzero().numel() > 0 ? r.labels.gt(9).nonzero()[0][0].item<int64_t>() : -1;
  if (bad >= 0)
    return data_loss_error(path + ": record " + std::to_string(bad) + " has label " +
                           std::to_string(r.labels[bad].item<int64_t>()) + ", not in 0..9");
  r.images = raw.narrow(1, 1, kCifarRecordBytes - 1).reshape({n, 3, 32, 32}).contiguous();
  return r;
}

StatusOr<DatasetSplits> load_cifar10_dir(const std::string& dir) {
  fs::path folder = fs::path(dir) / "cifar-10-batches-bin";
  if (!fs::exists(folder)) folder = dir;
  std::vector<std::string> train_files;
  for (int i = 1; i <= 5; ++i) train_files.push_back((folder / ("data_batch_" + std::to_string(i) + ".bin")).string());
  for (const auto& f : train_files)
    if (!fs::exists(f))
      return not_found_error("missing " + f + " (expected cifar-10-batches-bin/data_batch_1..5.bin and test_batch.bin; "
                             "scripts/download-data.sh cifar10 fetches them)");
  const std::string test_file = (folder / "test_batch.bin").string();
  if (!fs::exists(test_file)) return not_found_error("missing " + test_file);
  DatasetSplits s;
  s.name = "cifar10";
  ASSIGN_OR_RETURN(s.train, load_files(train_files));
  ASSIGN_OR_RETURN(s.test, load_files({test_file}));
  s.class_names = class_names(folder);
  return s;
}

Status write_cifar10_bin(const std::string& path, const at::Tensor& images, const at::Tensor& labels) {
  const int64_t n = images.size(0);
  at::Tensor records = at::cat({labels.to(at::kByte).view({n, 1}), images.to(at::kByte).reshape({n, -1})}, 1).contiguous();
  return write_file_bytes(path, std::string(static_cast<const char*>(records.data_ptr()), static_cast<size_t>(records.numel())),
                          false);
}

}  // namespace flotilla
