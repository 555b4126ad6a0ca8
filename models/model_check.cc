#include "models/model_check.h"

#include <ATen/ops/zeros.h>
#include <torch/utils.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/shape_text.h"
#include "models/model.h"
#include "models/torch_errors.h"

namespace flotilla {
namespace {

// "[2, 5]", with the dtype when it is not a floating-point one.
std::string output_string(const at::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i) out += (i ? ", " : "") + std::to_string(t.size(i));
  out += "]";
  if (!t.is_floating_point()) out += std::string(" ") + c10::toString(t.scalar_type());
  return out;
}

// Puts the model back in the mode it was in, however the check ends.
class ModeGuard {
 public:
  explicit ModeGuard(Model& model) : model_(model), was_training_(model.is_training()) {}
  ~ModeGuard() { model_.train(was_training_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  Model& model_;
  bool was_training_;
};

}  // namespace

Status check_model_input(Model& model, std::span<const int64_t> sample_shape, int64_t num_classes) {
  const std::string input = shape_text({sample_shape.begin(), sample_shape.end()});
  at::Tensor output;
  try {
    ModeGuard mode(model);
    model.eval();
    torch::NoGradGuard no_grad;
    c10::Device device(c10::kCPU);
    const auto parameters = model.parameters();
    const auto buffers = model.buffers();
    if (!parameters.empty())
      device = parameters.front().device();
    else if (!buffers.empty())
      device = buffers.front().device();
    std::vector<int64_t> shape = {2};
    shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
    output = model.forward(at::zeros(shape, at::TensorOptions().dtype(at::kFloat).device(device)));
  } catch (const std::exception& e) {
    return invalid_argument_error("the model does not take input " + input +
                                  " (the data's per-sample shape): " + torch_error_message(e));
  }
  if (!output.defined() || !output.is_floating_point() || output.dim() != 2 || output.size(0) != 2 ||
      output.size(1) < num_classes)
    return invalid_argument_error("the model's output is " + (output.defined() ? output_string(output) : "undefined") +
                                  " for input " + input + "; it must be [batch, classes] with at least " +
                                  std::to_string(num_classes) + " classes");
  const auto parameters = model.parameters();
  // A Python parameter with requires_grad=False is frozen on purpose, and stays so; with all of
  // them frozen, every local step would fail in backward() with torch's "does not require grad".
  if (std::none_of(parameters.begin(), parameters.end(), [](const at::Tensor& p) { return p.requires_grad(); }))
    return invalid_argument_error("the model has no trainable parameter (" + std::to_string(parameters.size()) +
                                  " parameters, none with requires_grad): nothing to train");
  return Status();
}

}  // namespace flotilla
