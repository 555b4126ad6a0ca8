#include "datasets/dataset_loader.h"

#include "datasets/cifar10_bin.h"
#include "datasets/mnist_idx.h"
#include "datasets/synthetic.h"

namespace flotilla {

std::vector<std::string> dataset_names() { return {"mnist", "fashion-mnist", "cifar10", "synthetic"}; }

std::string default_data_dir(const std::string& name) {
  if (name == "fashion-mnist" || name == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  return "data/" + name;
}

StatusOr<DatasetSplits> load_dataset(const std::string& name, const std::string& data_dir) {
  try {
    if (name == "mnist") return load_mnist_dir(data_dir, "mnist");
    if (name == "fashion-mnist" || name == "fashion_mnist") return load_mnist_dir(data_dir, "fashion-mnist");
    if (name == "cifar10") return load_cifar10_dir(data_dir);
    if (name == "synthetic") return make_synthetic();
  } catch (const std::exception& e) {
    return internal_error("loading " + name + " from " + data_dir + ": " + e.what());
  }
  std::string known;
  for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
  return invalid_argument_error("unknown dataset '" + name + "'; known: " + known);
}

}  // namespace flotilla
