#include "models/model.h"

#include <ATen/ops/empty_like.h>
#include <torch/utils.h>

namespace flotilla {

ModelState model_state(const Model& model) {
  ModelState state;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) state.add(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) state.add(b.key(), b.value().detach());
  return state;
}

namespace {

// `live` is one of the model's own tensors (not a view): its storage has one reference per
// TensorImpl holding it, so more than one means a detached view outside the model.
void load_into(at::Tensor& live, const at::Tensor& value) {
  if (live.storage().use_count() > 1) live.set_data(at::empty_like(live));
  live.copy_(value);
}

}  // namespace

Status load_model_state(Model& model, const ModelState& state) {
  // The views die with the statement: they would count as sharers below.
  RETURN_IF_ERROR(model_state(model).check_same_layout(state).with_context("model state does not fit the model"));
  try {
    torch::NoGradGuard no_grad;
    size_t i = 0;
    for (auto& p : model.named_parameters(/*recurse=*/true)) load_into(p.value(), state[i++].tensor);
    for (auto& b : model.named_buffers(/*recurse=*/true)) load_into(b.value(), state[i++].tensor);
    return Status();
  } catch (const std::exception& e) {
    return internal_error(std::string("loading model state: ") + e.what());
  }
}

}  // namespace flotilla
