#include "coordinator/background_evaluator.h"

#include <chrono>

namespace flotilla {

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
  RETURN_IF_ERROR(load_model_state(*model_, state));
  ASSIGN_OR_RETURN(EvalResult eval, evaluate(*model_, test_, device_, batch_size_));
  return Result{std::move(eval), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

}  // namespace flotilla
