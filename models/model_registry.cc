#include "models/model_registry.h"

#include "models/cifar_cnn.h"
#include "models/mlp.h"
#include "models/mnist_cnn.h"
#include "models/mnist_net.h"
#include "models/resnet.h"

namespace flotilla {
namespace {

struct Builder {
  ModelInfo info;
  StatusOr<std::shared_ptr<Model>> (*make)(const ModelSpec&);
};

const std::vector<Builder>& builders() {
  static const std::vector<Builder> all = {
      {{"cifar_cnn", "LeNet-style CNN for 32x32 colour images (62k parameters)"}, make_cifar_cnn},
      {{"mlp", "two hidden layers of 200 units (the FedAvg paper's 2NN)"}, make_mlp},
      {{"mnist_cnn", "the FedAvg paper's CNN: conv 32, conv 64, dense 512 (1.66M parameters)"}, make_mnist_cnn},
      {{"mnist_net", "small MNIST CNN of the PyTorch tutorial / FedAvg peer (22k parameters)"}, make_mnist_net},
      {{"resnet8",
        "CIFAR ResNet (He et al. 2016): 3 stages of 1 basic block, 16/32/64 channels, GroupNorm with 2 groups "
        "instead of BatchNorm (78,042 parameters on 3x32x32)"},
       make_resnet8},
      {{"resnet18",
        "CIFAR ResNet-18: 4 stages of 2 basic blocks, 64-512 channels, GroupNorm with 2 groups instead of BatchNorm "
        "(11.17M parameters on 3x32x32)"},
       make_resnet18},
  };
  return all;
}

}  // namespace

std::vector<ModelInfo> list_models() {
  std::vector<ModelInfo> out;
  for (const auto& b : builders()) out.push_back(b.info);
  return out;
}

StatusOr<std::shared_ptr<Model>> create_model(const std::string& name, const ModelSpec& spec) {
  if (spec.channels < 1 || spec.height < 1 || spec.width < 1 || spec.num_classes < 2)
    return invalid_argument_error("model input must have positive size and at least 2 classes");
  for (const auto& b : builders()) {
    if (b.info.name != name) continue;
    try {
      auto model = b.make(spec);
      if (!model.ok()) return model.status().with_context("model '" + name + "'");
      return model;
    } catch (const std::exception& e) {
      return internal_error("building model '" + name + "': " + e.what());
    }
  }
  std::string known;
  for (const auto& b : builders()) known += (known.empty() ? "" : ", ") + b.info.name;
  return invalid_argument_error("unknown model '" + name + "'; known: " + known);
}

}  // namespace flotilla
