#include "coordinator/background_evaluator.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <chrono>

namespace flotilla {

BackgroundEvaluator::BackgroundEvaluator(std::shared_ptr<Model> model, TensorDataset test, c10::Device device,
                                         int64_t batch_size)
    : model_(std::move(model)), test_(std::move(test)), device_(device), batch_size_(batch_size) {
  const ModelState own = model_state(*model_);
  for (const auto& e : own.entries())
    layout_.add(e.name, at::empty(e.tensor.sizes(), e.tensor.options().device(at::kMeta)));
  if (device_.is_cpu()) give_back();  // the model's own initial weights are not needed
}

Status BackgroundEvaluator::borrow(const ModelState& state) {
  RETURN_IF_ERROR(layout_.check_same_layout(state).with_context("model state does not fit the model"));
  torch::NoGradGuard no_grad;
  size_t i = 0;
  for (auto& p : model_->named_parameters(/*recurse=*/true)) p.value().set_data(state[i++].tensor.cpu());
  for (auto& b : model_->named_buffers(/*recurse=*/true)) b.value().set_data(state[i++].tensor.cpu());
  return Status();
}

void BackgroundEvaluator::give_back() {
  torch::NoGradGuard no_grad;
  for (auto& p : model_->named_parameters(/*recurse=*/true)) p.value().set_data(at::empty({0}, p.value().options()));
  for (auto& b : model_->named_buffers(/*recurse=*/true)) b.value().set_data(at::empty({0}, b.value().options()));
}

BackgroundEvaluator::~BackgroundEvaluator() {
  if (pending_.valid()) pending_.wait();
}

void BackgroundEvaluator::start(ModelState state) {
  pending_ = std::async(std::launch::async, [this, state = std::move(state)] { return run(state); });
}

StatusOr<BackgroundEvaluator::Result> BackgroundEvaluator::wait() {
  if (!pending_.valid()) return internal_error("no evaluation was started");
  return pending_.get();
}

StatusOr<BackgroundEvaluator::Result> BackgroundEvaluator::run(const ModelState& state) {
  const auto start = std::chrono::steady_clock::now();
  if (!device_.is_cpu()) {
    RETURN_IF_ERROR(load_model_state(*model_, state));
  } else {
    RETURN_IF_ERROR(borrow(state));
  }
  auto evaluated = evaluate(*model_, test_, device_, batch_size_);
  if (device_.is_cpu()) give_back();  // the coordinator frees an old global model once it drops it
  ASSIGN_OR_RETURN(EvalResult eval, std::move(evaluated));
  return Result{std::move(eval), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

}  // namespace flotilla
