// Models by name: "mnist_cnn" (FedAvg paper CNN), "mnist_net" (the peer's small MNIST CNN),
// "cifar_cnn" (LeNet-style), "mlp", "resnet8" and "resnet18" (CIFAR ResNets with GroupNorm), and
// "wide_mlp", whose size is chosen by options; and "torchscript:<sha256>", a model defined in
// Python whose TorchScript archive is in the store of models/torchscript_archive.h (a user's
// "torchscript:PATH" becomes that name through resolve_model_name()).
//
// A model name is its registry name, optionally followed by ':' and comma-separated key=value
// options: "wide_mlp:hidden=16000,layers=2". The whole string is the model's identity (it is what
// Experiment.model carries to the clients and what checkpoints and client states are tagged with),
// so every party builds the same model from it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/status.h"
#include "models/model.h"

namespace flotilla {

struct ModelInfo {
  std::string name;
  std::string description;
  std::vector<OptionSpec> options;  // empty: the name takes no options
};

std::vector<ModelInfo> list_models();

// Builds a freshly initialised model; parameters are drawn from torch's global generator, so
// seed it (torch::manual_seed) first for a reproducible start. Unknown name, unknown or malformed
// options, or a spec the model cannot take (e.g. mnist_cnn on 32x32x3): InvalidArgument naming
// both. A "torchscript:<sha256>" model starts from its archive's weights (no draw) and does not
// read the spec (models/model_check.h checks it against the data); NotFound when the archive is
// not in the store.
StatusOr<std::shared_ptr<Model>> create_model(const std::string& name, const ModelSpec& spec);

// A freshly initialised model of `model`'s architecture (create_model() with the name and spec that
// built `model`; nothing of its weights), e.g. for replicas that then share its parameters
// (training/hogwild.h). Draws from torch's global generator as create_model() does.
// FailedPrecondition for a model that create_model() did not build.
StatusOr<std::shared_ptr<Model>> create_model_like(const Model& model);

}  // namespace flotilla
