#include "models/model_registry.h"

#include "models/cifar_cnn.h"
#include "models/mlp.h"
#include "models/mnist_cnn.h"
#include "models/mnist_net.h"
#include "models/resnet.h"
#include "models/torchscript_archive.h"
#include "models/torchscript_model.h"
#include "models/wide_mlp.h"

namespace flotilla {
namespace {

using Make = StatusOr<std::shared_ptr<Model>> (*)(const ModelSpec&, const Options&);

struct Builder {
  ModelInfo info;
  Make make;
};

// Adapts a builder of a model without options (create_model has rejected any option for it).
template <StatusOr<std::shared_ptr<Model>> (*F)(const ModelSpec&)>
StatusOr<std::shared_ptr<Model>> without_options(const ModelSpec& spec, const Options&) {
  return F(spec);
}

const std::vector<Builder>& builders() {
  static const std::vector<Builder> all = {
      {{"cifar_cnn", "LeNet-style CNN for 32x32 colour images (62k parameters)", {}}, without_options<make_cifar_cnn>},
      {{"mlp", "two hidden layers of 200 units (the FedAvg paper's 2NN)", {}}, without_options<make_mlp>},
      {{"mnist_cnn", "the FedAvg paper's CNN: conv 32, conv 64, dense 512 (1.66M parameters)", {}},
       without_options<make_mnist_cnn>},
      {{"mnist_net", "small MNIST CNN of the PyTorch tutorial / FedAvg peer (22k parameters)", {}},
       without_options<make_mnist_net>},
      {{"resnet8",
        "CIFAR ResNet (He et al. 2016): 3 stages of 1 basic block, 16/32/64 channels, GroupNorm with 2 groups "
        "instead of BatchNorm (78,042 parameters on 3x32x32)",
        {}},
       without_options<make_resnet8>},
      {{"resnet18",
        "CIFAR ResNet-18: 4 stages of 2 basic blocks, 64-512 channels, GroupNorm with 2 groups instead of BatchNorm "
        "(11.17M parameters on 3x32x32)",
        {}},
       without_options<make_resnet18>},
      {{"wide_mlp",
        "MLP of any size for large-model runs: wide_mlp:hidden=H,layers=L (default 4096, 2); on MNIST hidden=16000 is "
        "1.07 GB",
        wide_mlp_options()},
       make_wide_mlp},
  };
  return all;
}

// Splits "name:k=v,k=v" into the name and its options; a repeated key or an empty list is an error.
StatusOr<std::pair<std::string, Options>> split_name(const std::string& full) {
  const auto colon = full.find(':');
  if (colon == std::string::npos) return std::pair{full, Options()};
  const std::string list = full.substr(colon + 1);
  if (list.empty()) return invalid_argument_error("model name '" + full + "' has ':' but no options after it");
  std::vector<std::string> assignments;
  for (size_t start = 0;;) {
    const auto comma = list.find(',', start);
    assignments.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  ASSIGN_OR_RETURN(Options options, Options::parse(assignments));
  if (options.values().size() != assignments.size())
    return invalid_argument_error("model name '" + full + "' sets an option twice");
  return std::pair{full.substr(0, colon), std::move(options)};
}

// The name list_models() gives TorchScript models; create_model() takes "torchscript:<sha256>".
constexpr const char* kTorchScriptEntry = "torchscript";

// "torchscript:<sha256>" from the archive store (models/torchscript_archive.h), with the archive's
// weights: the network and its initial weights are the archive's, not the spec's.
StatusOr<std::shared_ptr<Model>> make_torchscript(const std::string& name) {
  auto sha256 = torchscript_sha_of(name);
  if (!sha256.ok())
    return invalid_argument_error("model '" + name +
                                  "': a TorchScript model is built from its archive's digest, torchscript:<sha256> "
                                  "(resolve_model_name() turns torchscript:PATH into it)");
  auto model = TorchScriptModel::load(*sha256);
  if (!model.ok()) return model.status().with_context("model '" + name + "'");
  return std::shared_ptr<Model>(std::move(*model));
}

}  // namespace

std::vector<ModelInfo> list_models() {
  std::vector<ModelInfo> out;
  for (const auto& b : builders()) out.push_back(b.info);
  out.push_back({kTorchScriptEntry,
                 "a model defined in Python: torchscript:PATH names a torch.jit.script(model).save(PATH) (or "
                 "torch.jit.trace) archive; its network and initial weights are the archive's",
                 {}});
  return out;
}

StatusOr<std::shared_ptr<Model>> create_model(const std::string& name, const ModelSpec& spec) {
  if (spec.channels < 1 || spec.height < 1 || spec.width < 1 || spec.num_classes < 2)
    return invalid_argument_error("model input must have positive size and at least 2 classes");
  if (is_torchscript_model(name) || name == kTorchScriptEntry) {
    // The archive's digest, not options, follows the colon; a path has been resolved to it
    // (resolve_model_name()) before a model is built.
    if (name == kTorchScriptEntry)
      return invalid_argument_error("model 'torchscript' needs an archive: torchscript:PATH");
    ASSIGN_OR_RETURN(std::shared_ptr<Model> model, make_torchscript(name));
    model->registry_name_ = name;
    model->registry_spec_ = spec;
    return model;
  }
  ASSIGN_OR_RETURN(auto parsed, split_name(name));
  auto& [base, options] = parsed;
  for (const auto& b : builders()) {
    if (b.info.name != base) continue;
    RETURN_IF_ERROR(options.apply_specs(base, b.info.options).with_context("model '" + name + "'"));
    try {
      auto model = b.make(spec, options);
      if (!model.ok()) return model.status().with_context("model '" + name + "'");
      (*model)->registry_name_ = name;
      (*model)->registry_spec_ = spec;
      return model;
    } catch (const std::exception& e) {
      return internal_error("building model '" + name + "': " + e.what());
    }
  }
  std::string known;
  for (const auto& b : builders()) known += (known.empty() ? "" : ", ") + b.info.name;
  known += ", torchscript:PATH";
  return invalid_argument_error("unknown model '" + base + "'; known: " + known);
}

StatusOr<std::shared_ptr<Model>> create_model_like(const Model& model) {
  if (model.registry_name().empty())
    return failed_precondition_error("the model was not built by create_model(), so no other of its kind can be");
  return create_model(model.registry_name(), model.registry_spec());
}

}  // namespace flotilla
