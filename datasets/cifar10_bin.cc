#include "datasets/cifar10_bin.h"

#include <ATen/ops/empty.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/log.h"
#include "datasets/byte_tensor.h"
#include "datasets/file_bytes.h"
#include "datasets/torch_errors.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

// Per-channel (R, G, B) pixel statistics of the training set.
constexpr std::array<double, 3> kMean = {0.4914, 0.4822, 0.4465};
constexpr std::array<double, 3> kStd = {0.2470, 0.2435, 0.2616};

// Concatenates the files' records into one packed uint8 tensor (the one copy: the records are
// strided views of the files' buffers); normalisation happens per batch (TensorDataset::normalize).
StatusOr<TensorDataset> load_files(const std::vector<std::string>& paths) {
  std::vector<CifarRecords> parts;
  int64_t total = 0;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(CifarRecords r, read_cifar10_bin(path));
    total += r.labels.size(0);
    parts.push_back(std::move(r));
  }
  TensorDataset d;
  d.images = at::empty({total, 3, 32, 32}, at::kByte);
  d.labels = at::empty({total}, at::kLong);
  int64_t offset = 0;
  for (const CifarRecords& r : parts) {
    const int64_t n = r.labels.size(0);
    d.images.narrow(0, offset, n).copy_(r.images);
    d.labels.narrow(0, offset, n).copy_(r.labels);
    offset += n;
  }
  d.mean.assign(kMean.begin(), kMean.end());
  d.std.assign(kStd.begin(), kStd.end());
  d.num_classes = 10;
  return d;
}

std::string trim_name(const std::string& s) {
  const char* space = " \t\r\n";
  const size_t begin = s.find_first_not_of(space);
  return begin == std::string::npos ? "" : s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

std::vector<std::string> cifar_class_names(const fs::path& folder) {
  const std::vector<std::string> standard = {"airplane", "automobile", "bird",  "cat",  "deer",
                                             "dog",      "frog",       "horse", "ship", "truck"};
  std::ifstream in(folder / "batches.meta.txt");
  if (!in) return standard;
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (std::string name = trim_name(line); !name.empty()) names.push_back(std::move(name));
  }
  if (names.size() == 10) return names;
  FLOTILLA_LOG(Warning) << (folder / "batches.meta.txt").string() << " lists " << names.size()
                        << " class names, not 10; using the standard names";
  return standard;
}

Status check_cifar_labels(const std::string& path, const std::string& bytes) {
  for (size_t i = 0; i < bytes.size(); i += kCifarRecordBytes) {
    const unsigned label = static_cast<unsigned char>(bytes[i]);
    if (label > 9) {
      return data_loss_error(path + ": record " + std::to_string(i / kCifarRecordBytes) + " has label " +
                             std::to_string(label) + ", not in 0..9");
    }
  }
  return Status();
}

}  // namespace

StatusOr<CifarRecords> read_cifar10_bin(const std::string& path) {
  return status_from_exceptions("reading " + path, [&]() -> StatusOr<CifarRecords> {
    ASSIGN_OR_RETURN(std::string bytes, read_file_bytes(path));
    return parse_cifar10_bin(std::move(bytes), path);
  });
}

StatusOr<CifarRecords> parse_cifar10_bin(std::string bytes, const std::string& name) {
  return status_from_exceptions("reading " + name, [&]() -> StatusOr<CifarRecords> {
    if (bytes.empty() || bytes.size() % kCifarRecordBytes != 0) {
      return data_loss_error(name + ": " + std::to_string(bytes.size()) + " bytes is not a positive multiple of the " +
                             std::to_string(kCifarRecordBytes) + "-byte CIFAR-10 record");
    }
    RETURN_IF_ERROR(check_cifar_labels(name, bytes));
    const int64_t n = static_cast<int64_t>(bytes.size()) / kCifarRecordBytes;
    const at::Tensor records = byte_tensor(std::move(bytes), 0, {n, kCifarRecordBytes});
    CifarRecords r;
    r.labels = records.select(1, 0).to(at::kLong);
    // The record already holds the R, G, B planes in order, so a view is the [3, 32, 32] image.
    r.images = records.narrow(1, 1, kCifarImageBytes).view({n, 3, 32, 32});
    return r;
  });
}

StatusOr<DatasetSplits> load_cifar10_dir(const std::string& dir) {
  std::error_code ec;
  const fs::path nested = fs::path(dir) / "cifar-10-batches-bin";
  const fs::path folder = fs::is_directory(nested, ec) ? nested : fs::path(dir);
  std::vector<std::string> train_files;
  for (int i = 1; i <= 5; ++i) train_files.push_back((folder / ("data_batch_" + std::to_string(i) + ".bin")).string());
  const std::string test_file = (folder / "test_batch.bin").string();
  std::vector<std::string> all = train_files;
  all.push_back(test_file);
  // Check every file before reading any: a missing batch should not cost reading the others.
  for (const auto& f : all) {
    if (!fs::exists(f, ec)) {
      return not_found_error(f + ": no such file (looked for data_batch_1..5.bin and test_batch.bin in " + dir +
                             "/cifar-10-batches-bin and " + dir +
                             "; scripts/download-data.sh cifar10 fetches and extracts them)");
    }
  }
  return status_from_exceptions("loading cifar10 from " + dir, [&]() -> StatusOr<DatasetSplits> {
    DatasetSplits s;
    s.name = "cifar10";
    ASSIGN_OR_RETURN(s.train, load_files(train_files));
    ASSIGN_OR_RETURN(s.test, load_files({test_file}));
    s.class_names = cifar_class_names(folder);
    return s;
  });
}

Status write_cifar10_bin(const std::string& path, const at::Tensor& images, const at::Tensor& labels) {
  if (!images.defined() || images.scalar_type() != at::kByte || images.dim() != 4 || images.size(1) != 3 ||
      images.size(2) != 32 || images.size(3) != 32) {
    return invalid_argument_error("CIFAR-10 images must be uint8 [N, 3, 32, 32]");
  }
  if (!labels.defined() || !c10::isIntegralType(labels.scalar_type(), /*includeBool=*/false) || labels.dim() != 1 ||
      labels.size(0) != images.size(0)) {
    return invalid_argument_error("CIFAR-10 labels must be integers [N] with N = images.size(0)");
  }
  return status_from_exceptions("writing " + path, [&]() -> Status {
    const at::Tensor pixels = images.cpu().contiguous();
    const at::Tensor l = labels.cpu().to(at::kLong).contiguous();
    const int64_t n = l.size(0);
    const auto* label = l.data_ptr<int64_t>();
    const auto* pixel = static_cast<const char*>(pixels.data_ptr());
    std::string bytes;
    bytes.reserve(static_cast<size_t>(n * kCifarRecordBytes));
    for (int64_t i = 0; i < n; ++i) {
      if (label[i] < 0 || label[i] > 255) return invalid_argument_error("CIFAR-10 labels must be in 0..255");
      bytes.push_back(static_cast<char>(label[i]));
      bytes.append(pixel + i * kCifarImageBytes, kCifarImageBytes);
    }
    return write_file_bytes(path, bytes, false);
  });
}

}  // namespace flotilla
