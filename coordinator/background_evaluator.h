// BackgroundEvaluator: evaluates a global model on the test set on a thread of its own, so that
// the next round's clients train while the last round's model is evaluated. Evaluation was
// 11-13% of every round in the Fashion-MNIST demo and on CIFAR-10 while every client waited.
//
// One evaluation at a time: the coordinator starts one after a round and collects its result
// after the next round's aggregation (or at the end of the run). The model object is the
// evaluator's alone while an evaluation runs.
//
// Memory: on the CPU the model borrows the evaluated state's tensors instead of copying them, and
// holds no weights between evaluations, so a model of gigabytes is not held a second time by the
// evaluator (on a GPU the weights are copied to the device, as they must be).
#pragma once

#include <c10/core/Device.h>

#include <chrono>
#include <future>
#include <memory>

#include "datasets/dataset.h"
#include "models/model.h"
#include "training/evaluator.h"

namespace flotilla {

class BackgroundEvaluator {
 public:
  BackgroundEvaluator(std::shared_ptr<Model> model, TensorDataset test, c10::Device device, int64_t batch_size);
  ~BackgroundEvaluator();  // waits for a running evaluation
  BackgroundEvaluator(const BackgroundEvaluator&) = delete;
  BackgroundEvaluator& operator=(const BackgroundEvaluator&) = delete;

  struct Result {
    EvalResult eval;
    double seconds = 0;  // the evaluation's own wall time
  };

  // False for a run without a central test set (clients' own data, no --test-data): nothing to
  // start then.
  bool has_test_set() const { return test_.size() > 0; }
  // The input normalisation the run agreed on for clients' own data, for the test set too.
  // Requires !running().
  void set_input_normalisation(std::vector<double> mean, std::vector<double> std) {
    test_.mean = std::move(mean);
    test_.std = std::move(std);
  }

  // Starts evaluating `state` (its tensors are shared, and must not be changed in place while
  // it runs). Requires !running().
  void start(ModelState state);
  bool running() const { return pending_.valid(); }
  // An evaluation was started and has finished (wait() returns at once).
  bool finished() const {
    return pending_.valid() && pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
  // Waits for the started evaluation. Requires running().
  StatusOr<Result> wait();

 private:
  StatusOr<Result> run(const ModelState& state);
  // CPU: points the model's tensors at `state`'s (same layout, checked), or at nothing.
  Status borrow(const ModelState& state);
  void give_back();

  std::shared_ptr<Model> model_;
  ModelState layout_;  // the model's names, dtypes and shapes (meta tensors: no storage)
  TensorDataset test_;
  c10::Device device_;
  int64_t batch_size_;
  std::future<StatusOr<Result>> pending_;
};

}  // namespace flotilla
