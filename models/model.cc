#include "models/model.h"

#include <torch/utils.h>

namespace flotilla {

ModelState model_state(const Model& model) {
  ModelState state;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) state.add(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) state.add(b.key(), b.value().detach());
  return state;
}

Status load_model_state(Model& model, const ModelState& state) {
  ModelState live = model_state(model);
  RETURN_IF_ERROR(live.check_same_layout(state).with_context("model state does not fit the model"));
  try {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < live.size(); ++i) live.mutable_entries()[i].tensor.copy_(state[i].tensor);
    return Status();
  } catch (const std::exception& e) {
    return internal_error(std::string("loading model state: ") + e.what());
  }
}

}  // namespace flotilla
