#include "training/evaluator.h"

#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <limits>

namespace flotilla {

double EvalResult::class_accuracy(size_t c) const {
  if (c >= class_total.size() || class_total[c] == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(class_correct[c]) / static_cast<double>(class_total[c]);
}

StatusOr<EvalResult> evaluate(Model& model, const TensorDataset& data, c10::Device device, int64_t batch_size) {
  EvalResult r;
  r.num_samples = data.size();
  r.class_correct.assign(static_cast<size_t>(data.num_classes), 0);
  r.class_total.assign(static_cast<size_t>(data.num_classes), 0);
  if (r.num_samples == 0) return r;
  try {
    torch::NoGradGuard no_grad;
    model.eval();
    // Sums stay on the device and are read once at the end: a read per batch would make a GPU
    // wait for every batch before queueing the next.
    const auto on_device = at::TensorOptions().device(device);
    at::Tensor loss_sum = at::zeros({}, on_device.dtype(at::kDouble));
    at::Tensor correct_per_class = at::zeros({data.num_classes}, on_device.dtype(at::kLong));
    at::Tensor total_per_class = at::zeros({data.num_classes}, on_device.dtype(at::kLong));
    for (int64_t begin = 0; begin < r.num_samples; begin += batch_size) {
      const int64_t len = std::min(batch_size, r.num_samples - begin);
      // A no-op for data already on the device (the coordinator's test set, a client's data).
      at::Tensor x = data.normalize(data.images.narrow(0, begin, len).to(device, /*non_blocking=*/true));
      at::Tensor y = data.labels.narrow(0, begin, len).to(device, /*non_blocking=*/true);
      at::Tensor logits = model.forward(x);
      loss_sum += torch::nn::functional::cross_entropy(
                      logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                      .to(at::kDouble);
      correct_per_class.index_add_(0, y, logits.argmax(1).eq(y).to(at::kLong));
      total_per_class.index_add_(0, y, at::ones_like(y));
    }
    const at::Tensor correct_cpu = correct_per_class.cpu(), total_cpu = total_per_class.cpu();
    for (int64_t c = 0; c < data.num_classes; ++c) {
      r.class_correct[c] = correct_cpu[c].item<int64_t>();
      r.class_total[c] = total_cpu[c].item<int64_t>();
    }
    int64_t correct = 0;
    for (auto v : r.class_correct) correct += v;
    r.loss = loss_sum.item<double>() / static_cast<double>(r.num_samples);
    r.accuracy = static_cast<double>(correct) / static_cast<double>(r.num_samples);
    return r;
  } catch (const std::exception& e) {
    return internal_error(std::string("evaluation failed: ") + e.what());
  }
}

}  // namespace flotilla
