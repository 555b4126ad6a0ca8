#include "datasets/dataset_loader.h"

#include "datasets/cifar10_bin.h"
#include "datasets/mnist_idx.h"
#include "datasets/synthetic.h"
#include "datasets/torch_errors.h"

namespace flotilla {

std::vector<std::string> dataset_names() { return {"mnist", "fashion-mnist", "cifar10", "synthetic"}; }

std::string default_data_dir(const std::string& name) {
  // Debian's dataset-fashion-mnist package installs the official .gz files there.
  if (name == "fashion-mnist" || name == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  return "data/" + name;
}

StatusOr<DatasetSplits> load_dataset(const std::string& name, const std::string& data_dir) {
  // The readers catch torch's exceptions themselves; this catch is the module's last line, so that
  // nothing thrown by a dependency reaches the coordinator or a client.
  return status_from_exceptions("loading " + name + " from " + data_dir, [&]() -> StatusOr<DatasetSplits> {
    if (name == "mnist" || name == "fashion-mnist" || name == "fashion_mnist") return load_mnist_dir(data_dir, name);
    if (name == "cifar10") return load_cifar10_dir(data_dir);
    if (name == "synthetic") return make_synthetic();
    std::string known;
    for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
    return invalid_argument_error("unknown dataset '" + name + "'; known: " + known + " (fashion_mnist also works)");
  });
}

}  // namespace flotilla
