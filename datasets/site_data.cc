#include "datasets/site_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/check.h"
#include "datasets/cifar10_bin.h"
#include "datasets/csv_table.h"
#include "datasets/mnist_idx.h"
#include "datasets/tensor_file.h"
#include "datasets/torch_errors.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

enum class SiteFormat { kNone, kTensorFile, kCsv, kMnist, kCifar10 };

// What detect() looks for, in its order, for messages.
constexpr const char* kLookedFor =
    "train.pt, train.csv, train-images-idx3-ubyte[.gz] (MNIST IDX), cifar-10-batches-bin/ or data_batch_1.bin "
    "(CIFAR-10 binary)";

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

SiteFormat detect(const fs::path& dir) {
  if (present(dir / "train.pt")) return SiteFormat::kTensorFile;
  if (present(dir / "train.csv")) return SiteFormat::kCsv;
  if (present(dir / "train-images-idx3-ubyte") || present(dir / "train-images-idx3-ubyte.gz"))
    return SiteFormat::kMnist;
  std::error_code ec;
  if (fs::is_directory(dir / "cifar-10-batches-bin", ec) || present(dir / "data_batch_1.bin")) {
    return SiteFormat::kCifar10;
  }
  return SiteFormat::kNone;
}

std::string sample_shape(const at::Tensor& x) {
  std::string out = "[";
  for (int64_t d = 1; d < x.dim(); ++d) out += (d > 1 ? ", " : "") + std::to_string(x.size(d));
  return out + "] " + c10::toString(x.scalar_type());
}

// A model takes one input shape, and evaluation must speak of the same classes as training.
Status check_agree(const std::string& train_path, TensorDataset& train, const std::string& test_path,
                   TensorDataset& test) {
  if (train.images.sizes().slice(1) != test.images.sizes().slice(1) ||
      train.images.scalar_type() != test.images.scalar_type()) {
    return invalid_argument_error(train_path + " has samples of shape " + sample_shape(train.images) + " but " +
                                  test_path + " has samples of shape " + sample_shape(test.images) +
                                  "; train and test must agree");
  }
  train.num_classes = test.num_classes = std::max(train.num_classes, test.num_classes);
  return Status();
}

StatusOr<DatasetSplits> load_tensor_files(const fs::path& dir) {
  const std::string train_path = (dir / "train.pt").string(), test_path = (dir / "test.pt").string();
  DatasetSplits s;
  s.name = "local";
  ASSIGN_OR_RETURN(s.train, read_tensor_file(train_path));
  if (present(test_path)) {
    ASSIGN_OR_RETURN(s.test, read_tensor_file(test_path));
    RETURN_IF_ERROR(check_agree(train_path, s.train, test_path, s.test));
  }
  return s;
}

StatusOr<DatasetSplits> load_csv_files(const fs::path& dir, const SiteDataOptions& options) {
  const std::string train_path = (dir / "train.csv").string(), test_path = (dir / "test.csv").string();
  DatasetSplits s;
  s.name = "local";
  std::vector<std::string> train_columns, test_columns;
  ASSIGN_OR_RETURN(s.train, read_csv_dataset(train_path, options.label_column, &train_columns));
  if (present(test_path)) {
    ASSIGN_OR_RETURN(s.test, read_csv_dataset(test_path, options.label_column, &test_columns));
    RETURN_IF_ERROR(check_agree(train_path, s.train, test_path, s.test));
    // Same count, different meaning: a model trained on one column order would read the other wrong.
    for (size_t c = 0; c < train_columns.size(); ++c) {
      if (train_columns[c] != test_columns[c]) {
        return invalid_argument_error(train_path + " has feature column " + std::to_string(c + 1) + " \"" +
                                      train_columns[c] + "\" where " + test_path + " has \"" + test_columns[c] +
                                      "\"; train and test must have the same feature columns in the same order");
      }
    }
  }
  return s;
}

}  // namespace

StatusOr<DatasetSplits> load_site_dir(const std::string& dir, const SiteDataOptions& options) {
  return status_from_exceptions("loading site data from " + dir, [&]() -> StatusOr<DatasetSplits> {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return not_found_error(dir + ": no such folder (expected a site's data folder)");
    StatusOr<DatasetSplits> splits = not_found_error(dir + ": no data files; looked for " + kLookedFor);
    switch (detect(dir)) {
      case SiteFormat::kTensorFile:
        return load_tensor_files(dir);
      case SiteFormat::kCsv:
        return load_csv_files(dir, options);
      case SiteFormat::kMnist:
        splits = load_mnist_dir(dir, "mnist");
        break;
      case SiteFormat::kCifar10:
        splits = load_cifar10_dir(dir);
        break;
      case SiteFormat::kNone:
        break;
    }
    // The official formats keep their statistics and class names; only the name says where they came from.
    if (splits.ok()) splits->name = "local";
    return splits;
  });
}

StatusOr<std::string> site_dir_for(const std::string& root, int client_id, bool only_client) {
  std::error_code ec;
  const fs::path client_dir = fs::path(root) / ("client_" + std::to_string(client_id));
  if (fs::is_directory(client_dir, ec)) return client_dir.string();
  if (!fs::is_directory(root, ec)) return not_found_error(root + ": no such folder (the site data root)");
  if (only_client && detect(root) != SiteFormat::kNone) return root;
  std::string message =
      "no data folder for client " + std::to_string(client_id) + ": " + client_dir.string() + " does not exist";
  if (only_client) {
    message += std::string(", and ") + root + " itself holds none of " + kLookedFor;
  } else {
    message += " (with several clients, each one's data lives in " + root + "/client_<id>)";
  }
  return not_found_error(message);
}

InputStats input_stats(const TensorDataset& data) {
  InputStats s;
  if (data.size() == 0 || !data.images.defined()) return s;
  const at::Tensor& x = data.images;
  FLOTILLA_CHECK(x.dim() >= 2 && (x.scalar_type() == at::kByte || x.scalar_type() == at::kFloat))
      << "input_stats wants uint8 or float32 [N, C, ...] inputs";
  const int64_t n = x.size(0), channels = x.size(1), per_channel = x.numel() / std::max<int64_t>(n * channels, 1);
  s.sum.assign(static_cast<size_t>(channels), 0.0);
  s.sum_sq.assign(static_cast<size_t>(channels), 0.0);
  s.count = n * per_channel;
  const bool bytes = x.scalar_type() == at::kByte;
  // Chunks of samples: a copy of a bounded size when the data is on a device or strided, and a
  // partial sum per chunk, which keeps rounding error lower than one running sum over millions.
  constexpr int64_t kChunk = 1024;
  std::vector<double> sum(s.sum.size()), sum_sq(s.sum.size());
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t k = std::min(kChunk, n - start);
    const at::Tensor chunk = x.narrow(0, start, k).cpu().contiguous();
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(sum_sq.begin(), sum_sq.end(), 0.0);
    for (int64_t i = 0; i < k; ++i) {
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t offset = (i * channels + c) * per_channel;
        double a = 0, b = 0;
        if (bytes) {
          const uint8_t* p = chunk.data_ptr<uint8_t>() + offset;
          for (int64_t j = 0; j < per_channel; ++j) {
            const double v = p[j] / 255.0;
            a += v;
            b += v * v;
          }
        } else {
          const float* p = chunk.data_ptr<float>() + offset;
          for (int64_t j = 0; j < per_channel; ++j) {
            const double v = p[j];
            a += v;
            b += v * v;
          }
        }
        sum[static_cast<size_t>(c)] += a;
        sum_sq[static_cast<size_t>(c)] += b;
      }
    }
    for (size_t c = 0; c < sum.size(); ++c) {
      s.sum[c] += sum[c];
      s.sum_sq[c] += sum_sq[c];
    }
  }
  return s;
}

std::pair<std::vector<double>, std::vector<double>> mean_std(const InputStats& stats) {
  FLOTILLA_CHECK(stats.sum.size() == stats.sum_sq.size())
      << "InputStats with " << stats.sum.size() << " sums but " << stats.sum_sq.size() << " sums of squares";
  // E[x^2] - E[x]^2 cancels: for a constant channel it leaves rounding noise of about 1e-16 of
  // E[x^2] per addition, not 0. A spread below this fraction of E[x^2] counts as none.
  constexpr double kZeroSpread = 1e-12;
  std::vector<double> mean(stats.sum.size(), 0.0), std(stats.sum.size(), 1.0);
  if (stats.count <= 0) return {mean, std};
  const auto count = static_cast<double>(stats.count);
  for (size_t c = 0; c < mean.size(); ++c) {
    mean[c] = stats.sum[c] / count;
    const double mean_square = stats.sum_sq[c] / count;
    const double variance = mean_square - mean[c] * mean[c];
    if (variance > kZeroSpread * mean_square) std[c] = std::sqrt(variance);
  }
  return {mean, std};
}

std::vector<int64_t> label_counts(const TensorDataset& data, int64_t num_classes) {
  FLOTILLA_CHECK(num_classes >= 0) << "label_counts: num_classes " << num_classes << " is negative";
  std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
  for (const int64_t label : data.label_vector()) {
    FLOTILLA_CHECK(label >= 0 && label < num_classes)
        << "label_counts: label " << label << " is outside 0.." << num_classes - 1
        << " (pass at least the dataset's num_classes, " << data.num_classes << ")";
    ++counts[static_cast<size_t>(label)];
  }
  return counts;
}

}  // namespace flotilla
