// flotilla-partition: shows how a partitioner splits a dataset's training set among clients,
// without running anything. It takes the coordinator's dataset and partitioner flags, maps them
// with the same function (partitioners/partitioner_flags.h) and partitions through the same
// partition_for, so what it prints is exactly the split a run with those flags records in its
// partition.csv (each client's held-out slice, if any, is taken later, from its own part).
// With --write-sites it also writes that split out as site folders (one train.pt per client and
// the test split as test.pt), so that a run of --dataset local on them trains on exactly the
// rows a run of the public data set with the same flags gives each client.
#include <ATen/ATen.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/check.h"
#include "datasets/dataset_loader.h"
#include "datasets/tensor_file.h"
#include "partitioners/partition_report.h"
#include "partitioners/partition_stats.h"
#include "partitioners/partitioner_flags.h"
#include "tools/command_line.h"
#include "training/experiment_setup.h"

namespace {

using namespace flotilla;

// Exit statuses, as --help states them (2, kExitUsage: bad flags, tools/command_line.h).
constexpr int kExitData = 1;  // the data could not be loaded or split as asked

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return unavailable_error("cannot write " + path);
  return Status();
}

Status write_partition_files(const std::string& dir, const PartitionStats& stats) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unavailable_error("cannot create " + dir + ": " + ec.message());
  RETURN_IF_ERROR(write_text(dir + "/partition.csv", partition_csv(stats)));
  return write_text(dir + "/partition.json", partition_json(stats));
}

// DIR/client_<k>/train.pt for every client k: its partition's rows of the training set, in the
// partition's order (ascending, Partition's contract), so that row r of the file is the r-th
// smallest index of the share. The client's held-out slice is then cut from the file's rows by
// the same seeded positions a run on the public data set cuts from the indices
// (training/experiment_setup.h), which is what makes the two runs train on the same rows.
// DIR/test.pt: the test split, a central test set for --test-data. x stays as the data set keeps
// it (uint8 pixels for the image readers, float32 for generated data), y int64; every file also
// records the data set's class count, so that a client lacking the top classes still agrees
// with the others and the model on it.
Status write_site_files(const std::string& dir, const DatasetSplits& data, const Partition& partition) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unavailable_error("cannot create " + dir + ": " + ec.message());
  const int64_t classes = data.train.num_classes;
  for (int k = 0; k < partition.num_clients(); ++k) {
    const std::string site = dir + "/client_" + std::to_string(k);
    std::filesystem::create_directories(site, ec);
    if (ec) return unavailable_error("cannot create " + site + ": " + ec.message());
    const auto& indices = partition.client_indices[static_cast<size_t>(k)];
    FLOTILLA_CHECK(std::is_sorted(indices.begin(), indices.end())) << "client " << k << "'s indices are not sorted";
    const TensorDataset share = data.train.select(at::tensor(indices, at::kLong));
    RETURN_IF_ERROR(write_tensor_file(site + "/train.pt", share.images, share.labels, classes));
  }
  return write_tensor_file(dir + "/test.pt", data.test.images, data.test.labels,
                           std::max(classes, data.test.num_classes));
}

// CLI11's PositiveNumber reports "Value 0 not in range 0.000000 to 1797...(300 digits)".
CLI::Validator at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        int64_t value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not an integer";
        return value >= min ? std::string() : "must be at least " + std::to_string(min) + ", got " + text;
      },
      ">=" + std::to_string(min));
}

// "dirichlet (alpha=0.1, min_partition_size=10)", or just the name when it has no options.
std::string describe(const Experiment& ex) {
  std::string options;
  for (const auto& [key, value] : ex.partitioner_options) options += (options.empty() ? "" : ", ") + key + "=" + value;
  return options.empty() ? ex.partitioner : ex.partitioner + " (" + options + ")";
}

}  // namespace

int main(int argc, char** argv) {
  PartitionerRegistry partitioners("partitioner");
  if (Status s = register_builtin_partitioners(partitioners); !s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return kExitData;
  }

  CLI::App app{
      "Flotilla partition preview: how a partitioner splits a dataset's training set among clients, exactly as a "
      "run with the same flags would (same flags, same code, same seed).\n"
      "Example: flotilla-partition --dataset mnist --data-dir data/mnist --clients 10 --partitioner dirichlet "
      "--alpha 0.1 --out /tmp/p"};
  app.set_config("--config", "",
                 "read options from a TOML/INI file (keys are the long option names); a coordinator's config works "
                 "too: keys this tool does not know are ignored");
  app.footer("Exit status: 0 done, 1 the data could not be loaded or split as asked, 2 bad flags.");
  app.get_formatter()->column_width(36);

  Experiment ex;
  ex.seed = 42;  // the coordinator's default, so that leaving --seed out previews a default run
  std::string data_dir, out_dir, sites_dir;
  int max_rows = 20;
  PartitionerFlags flags;
  int shards_per_client = 0, labels_per_client = 0;

  app.add_option("--dataset", ex.dataset, "dataset: " + join(dataset_names()))
      ->required()
      ->check(CLI::IsMember(dataset_names()));
  app.add_option("--data-dir", data_dir, "dataset folder (default: the dataset's standard place)");
  app.add_option("--clients", ex.num_clients, "number of logical clients (= data partitions)")
      ->required()
      ->check(at_least(1));
  app.add_option("--partitioner", ex.partitioner, "partitioning scheme: " + join(partitioners.names()))->required();
  app.add_option("--alpha", flags.alpha, "Dirichlet concentration (dirichlet, quantity_skew, inner_dirichlet)")
      ->capture_default_str();
  app.add_option("--min-partition-size", flags.min_partition_size,
                 "fewest samples per client (dirichlet, quantity_skew)")
      ->capture_default_str();
  auto* shards_flag = app.add_option("--shards-per-client", shards_per_client, "shards: shards each client gets");
  auto* labels_flag =
      app.add_option("--labels-per-client", labels_per_client, "label_split: distinct labels each client gets");
  app.add_option("--partitioner-opt", flags.extra, "extra partitioner option key=value (repeatable; wins over flags)");
  app.add_option("--seed", ex.seed, "seed of the partition (a run's --seed)")->capture_default_str();
  app.add_option("--out", out_dir, "also write DIR/partition.csv and DIR/partition.json, as a run directory has them");
  app.add_option("--write-sites", sites_dir,
                 "also write each client's share as DIR/client_<id>/train.pt (uint8 images as the data set keeps "
                 "them, int64 labels, rows in index order) and the test split as DIR/test.pt: site files for "
                 "--dataset local that give each client the rows this split gives it");
  app.add_option("--max-rows", max_rows, "print at most this many clients (0 = all); the summary covers all")
      ->check(at_least(0))
      ->capture_default_str();

  if (auto stop = parse_command_line(app, argc, argv)) return *stop;
  if (shards_flag->count() > 0) flags.shards_per_client = shards_per_client;
  if (labels_flag->count() > 0) flags.labels_per_client = labels_per_client;
  // As the coordinator does: a flag the scheme does not take is refused, not dropped. (An unknown
  // --partitioner is reported below, by the registry.)
  if (const auto* scheme = partitioners.find(ex.partitioner)) {
    std::vector<std::string> given_flags;
    for (const std::string& flag : partitioner_option_flags())
      if (app.count(flag) > 0) given_flags.push_back(flag);
    if (Status s = check_flags_apply(*scheme, given_flags); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return kExitUsage;
    }
  }

  auto options = partitioner_options_from_flags(ex.partitioner, flags);
  if (!options.ok()) {
    std::cerr << "error: " << options.status().message() << "\n";
    return kExitUsage;
  }
  ex.partitioner_options = *options;
  // Name and options are checked before the data is loaded (seconds for CIFAR-10), and apart
  // from it, so a typo is a usage error rather than a data error.
  if (auto made = partitioners.create(ex.partitioner, Options(ex.partitioner_options)); !made.ok()) {
    std::cerr << "error: " << made.status().message() << "\n";
    return kExitUsage;
  }

  auto data = load_dataset(ex.dataset, data_dir.empty() ? default_data_dir(ex.dataset) : data_dir);
  if (!data.ok()) {
    std::cerr << "error: " << data.status().message() << "\n";
    return kExitData;
  }
  auto partition = partition_for(ex, data->train);
  if (!partition.ok()) {
    std::cerr << "error: " << partition.status().message() << "\n";
    return kExitData;
  }
  const PartitionStats stats =
      compute_partition_stats(partition->class_counts(data->train.label_vector(), data->train.num_classes));

  std::cout << ex.dataset << ": " << data->train.size() << " training samples, " << data->train.num_classes
            << " classes; " << describe(ex) << " over " << ex.num_clients << " clients, seed " << ex.seed << "\n"
            << format_partition_report(stats, max_rows);
  if (!out_dir.empty()) {
    if (Status s = write_partition_files(out_dir, stats); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return kExitData;
    }
    std::cout << "wrote " << out_dir << "/partition.csv and " << out_dir << "/partition.json\n";
  }
  if (!sites_dir.empty()) {
    if (Status s = write_site_files(sites_dir, *data, *partition); !s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      return kExitData;
    }
    std::cout << "wrote " << sites_dir << "/client_{0.." << ex.num_clients - 1 << "}/train.pt and " << sites_dir
              << "/test.pt (" << data->test.size() << " test samples)\n";
  }
  return 0;
}
