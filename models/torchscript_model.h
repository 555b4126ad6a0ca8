// TorchScriptModel: a model defined in Python and saved as TorchScript (models/torchscript_archive.h),
// trained by Flotilla's trainer and aggregators like a built-in one.
//
// The wrapped torch::jit::Module runs forward and backward; the Model around it owns no tensor of
// its own. Its parameters and buffers are the jit module's own tensors (the same TensorImpls, not
// copies), registered on placeholder submodules that mirror the jit module's hierarchy, so that
// model_state() names them exactly as Python's model.state_dict() does ("conv1.weight",
// "bn.running_mean", "bn.num_batches_tracked"; parameters then buffers, as for every Model, where
// Python interleaves them module by module) and load_model_state(), optimizers and Hogwild's
// set_data() act on the tensors the jit module computes with.
#pragma once

#include <memory>
#include <string>

#include "core/model_state.h"
#include "core/status.h"
#include "models/model.h"

namespace flotilla {

// Built by create_model("torchscript:<sha256>", spec) (models/model_registry.h); spec is not used.
// Not thread-safe, as no Model is: one thread trains it (Hogwild gives each thread a replica).
class TorchScriptModel final : public Model {
 public:
  // Loads archive `sha256` from the store: NotFound naming it when the store lacks it,
  // InvalidArgument when the module cannot be mirrored (two names for one tensor or one storage:
  // tied weights, which a named state cannot carry). The weights are the archive's.
  static StatusOr<std::shared_ptr<TorchScriptModel>> load(const std::string& sha256);
  ~TorchScriptModel() override;

  // With the module's own features(x) and classify(z) methods when it defines both (so MOON sees a
  // representation); otherwise features(x) is the module's forward(x) (the logits) and classify(z)
  // returns z. A forward that does not return a tensor raises a c10::Error saying so.
  at::Tensor features(const at::Tensor& x) override;
  at::Tensor classify(const at::Tensor& features) override;
  bool provides_features() const override;

  // Also switch the jit module (and its submodules) between training and evaluation (dropout,
  // batch norm), as Python's model.train() does.
  void train(bool on = true) override;
  // Move or cast the jit module's parameters, buffers and other tensor attributes in place
  // (set_data: the tensors keep their identity, so parameters() handles and optimisers follow;
  // model_state() views taken before keep the old data, as with any Model).
  // A dtype applies to floating-point tensors only, as in Python (num_batches_tracked stays int64).
  void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Dtype dtype, bool non_blocking = false) override;
  void to(torch::Device device, bool non_blocking = false) override;

  // The archive this model was loaded from.
  const std::string& sha256() const;

 private:
  struct Impl;
  explicit TorchScriptModel(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

// Writes a TorchScript archive of archive `sha256`'s network with the weights of `state` (e.g. the
// final global model), which Python's torch.jit.load() runs: loads a fresh module from the store,
// copies every tensor of `state` into the parameter or buffer of that name, and saves it to
// `path` (through path + ".tmp", renamed: a reader never sees half a file). NotFound when the store
// lacks the archive; InvalidArgument naming the first tensor whose name, shape or dtype does not
// match (every name of `state` must be the module's, and every one of the module's in `state`);
// Internal for a failed write.
Status save_torchscript_with_state(const std::string& sha256, const ModelState& state, const std::string& path);

}  // namespace flotilla
