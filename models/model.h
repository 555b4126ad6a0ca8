// Model: a torch::nn::Module with one forward; built by name from the registry in
// models/model_registry.h. Heavy header (torch nn): include it only where training or
// evaluation happens.
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <string>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// What a model needs to know of its data.
struct ModelSpec {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t num_classes = 10;
};

// Every model is a representation followed by a linear classifier, so that algorithms that work
// on the representation (MOON's contrastive term) apply to any of them.
class Model : public torch::nn::Module {
 public:
  // x: float [B, C, H, W]; returns logits [B, num_classes].
  at::Tensor forward(const at::Tensor& x) { return classify(features(x)); }
  // The representation the classifier reads: [B, D], the penultimate layer's activations.
  virtual at::Tensor features(const at::Tensor& x) = 0;
  // Logits from features(x).
  virtual at::Tensor classify(const at::Tensor& features) = 0;
  // Whether features() is a representation before a classifier, as above. False for a model that
  // only has a forward (a TorchScript archive without features and classify methods): features()
  // is then the logits and classify() the identity, so forward() still works but algorithms on the
  // representation (MOON) would work on logits.
  virtual bool provides_features() const { return true; }

  // The create_model() name and spec this model was built from (models/model_registry.h); empty
  // name for a model built otherwise. create_model_like() builds more of the same from them.
  const std::string& registry_name() const { return registry_name_; }
  const ModelSpec& registry_spec() const { return registry_spec_; }

 private:
  friend StatusOr<std::shared_ptr<Model>> create_model(const std::string& name, const ModelSpec& spec);
  std::string registry_name_;
  ModelSpec registry_spec_;
};

// The model's parameters then buffers, named as PyTorch's state_dict names them; tensors are
// detached views of the live ones (no copy).
ModelState model_state(const Model& model);

// Copies `state` into the model's tensors; InvalidArgument (naming the tensor) when names,
// dtypes or shapes differ. A tensor whose storage is shared beyond the model (a model_state()
// view held elsewhere: an update still being sent, whose frames alias the live parameters) gets
// fresh storage first, so that holder keeps the bytes it had: sending the live parameters needs no
// copy. Holders of the model's own tensors (its parameters(), an optimizer) follow the model.
// Assumes no two of the model's tensors share storage (no tied weights), true of every model here.
Status load_model_state(Model& model, const ModelState& state);

}  // namespace flotilla
