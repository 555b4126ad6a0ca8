// A federated client's own data: a folder of files at its site, in whichever of the supported
// formats the site has, instead of a share of a public dataset. Also the sums a federation needs
// to agree on normalisation without any site showing its data. Functions are thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

struct SiteDataOptions {
  // The CSV column that holds the class label (train.csv / test.csv); "label" by default.
  std::string label_column = "label";
};

// Loads the site folder `dir`, trying in this order, the first format present wins:
//   train.pt (+ test.pt when present)       read_tensor_file (datasets/tensor_file.h)
//   train.csv (+ test.csv when present)     read_csv_dataset with options.label_column
//   train-images-idx3-ubyte[.gz]            load_mnist_dir(dir, "mnist") (the official IDX files)
//   cifar-10-batches-bin/ or data_batch_1.bin   load_cifar10_dir(dir)
// `name` is "local". Without a test file, `test` is empty (size() 0, undefined tensors). Train and
// test must agree in per-sample shape and dtype (and, for CSV, in feature columns): else
// InvalidArgument naming both; num_classes is the larger of the two, on both. NotFound naming
// the folder and every file name looked for when none is there; a file's own errors otherwise.
StatusOr<DatasetSplits> load_site_dir(const std::string& dir, const SiteDataOptions& options);

// The folder of logical client `client_id` under `root`: root/client_<id> (e.g. "client_3", no
// padding) when that folder exists; else, when `only_client` (a site operator running a single
// client points it at its data folder), `root` itself if it holds data files load_site_dir knows.
// NotFound naming what it tried otherwise.
StatusOr<std::string> site_dir_for(const std::string& root, int client_id, bool only_client);

// Per-channel sums of model inputs, which add up across sites: a federation sums every site's
// InputStats and derives one mean and std for all (mean_std), so no site shows its data.
struct InputStats {
  std::vector<double> sum;     // per channel: sum of values
  std::vector<double> sum_sq;  // per channel: sum of squared values
  int64_t count = 0;           // values per channel: elements per channel, summed over samples
};

// The sums over `data.images`, per channel (dimension 1; each feature of tabular [N, F] data is a
// channel), on the model's scale before normalisation: uint8 as x / 255, float as it is. An empty
// dataset gives empty sums and count 0.
InputStats input_stats(const TensorDataset& data);

// Mean and population standard deviation per channel from summed stats. A channel whose spread
// is zero (up to rounding in the sums) gets std 1, so normalising it subtracts the mean only;
// count 0 gives mean 0 and std 1 per channel.
std::pair<std::vector<double>, std::vector<double>> mean_std(const InputStats& stats);

// How many samples of `data` have each label: a vector of `num_classes` counts. Every label must be
// below `num_classes` (CHECK): pass at least data.num_classes, which the readers check labels against.
std::vector<int64_t> label_counts(const TensorDataset& data, int64_t num_classes);

}  // namespace flotilla
