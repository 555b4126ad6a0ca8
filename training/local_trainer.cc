#include "training/local_trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>

#include "models/torch_errors.h"
#include "training/augment.h"
#include "training/client_algorithm.h"
#include "training/hogwild.h"

namespace flotilla {

void add_proximal_gradient(std::span<const at::Tensor> parameters, std::span<const at::Tensor> anchor, double mu) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters.size(); ++i) {
    at::Tensor grad = parameters[i].grad();
    if (grad.defined()) grad.add_(parameters[i] - anchor[i], mu);
  }
}

Status check_train_config(int64_t num_samples, const TrainConfig& config) {
  if (num_samples == 0) return invalid_argument_error("client has no training samples");
  if (config.epochs < 1 || config.batch_size < 1) return invalid_argument_error("epochs and batch size must be >= 1");
  if (!(config.lr > 0) || config.momentum < 0 || config.weight_decay < 0 || config.prox_mu < 0)
    return invalid_argument_error("lr must be > 0 and momentum, weight decay, prox mu >= 0");
  if (!is_known_augment(config.augment))
    return invalid_argument_error("unknown augmentation '" + config.augment +
                                  "' (none | crop_flip | crop_flip_reflect)");
  return Status();
}

StatusOr<TrainResult> train_local(Model& model, const TensorDataset& data, const TrainConfig& requested,
                                  c10::Device device, uint64_t shuffle_seed, ClientAlgorithm* algorithm,
                                  const GradientExchange* exchange) {
  // Batch size 0 is the client's whole training set (B = infinity of McMahan et al.: one step per
  // epoch, FedSGD when E = 1).
  TrainConfig config = requested;
  if (config.batch_size == 0) config.batch_size = static_cast<int>(std::max<int64_t>(1, data.size()));
  if (config.local_threads != 1) {
    if (exchange) return invalid_argument_error("gradients are averaged with other ranks by one thread only");
    return train_hogwild(model, data, config, device, shuffle_seed, algorithm);
  }
  const int64_t n = data.size();
  RETURN_IF_ERROR(check_train_config(n, config));
  if (exchange && (exchange->steps_per_epoch < 1 || !exchange->average))
    return invalid_argument_error("a gradient exchange needs steps_per_epoch >= 1 and an average function");
  // A data-parallel rank stops each epoch after the group's agreed number of batches.
  const int64_t batches_per_epoch = (n + config.batch_size - 1) / config.batch_size;
  const int64_t epoch_steps = exchange ? std::min(exchange->steps_per_epoch, batches_per_epoch) : batches_per_epoch;
  if (exchange && exchange->steps_per_epoch > batches_per_epoch)
    return invalid_argument_error("the group agreed on " + std::to_string(exchange->steps_per_epoch) +
                                  " steps per epoch, but this rank's " + std::to_string(n) + " samples make " +
                                  std::to_string(batches_per_epoch) + " batches");

  const auto start = std::chrono::steady_clock::now();
  try {
    model.train();
    std::vector<at::Tensor> params = model.parameters();
    std::vector<at::Tensor> anchor;  // w_global, for the proximal term
    if (config.prox_mu > 0)
      for (const auto& p : params) anchor.push_back(p.detach().clone());

    torch::optim::SGD optimizer(
        params, torch::optim::SGDOptions(config.lr).momentum(config.momentum).weight_decay(config.weight_decay));
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(shuffle_seed);
    // Augmentation draws from its own stream so that turning it on leaves the batch order
    // unchanged (a cleaner comparison); the constant only decorrelates the two seeds.
    at::Generator augment_generator = at::make_generator<at::CPUGeneratorImpl>(shuffle_seed ^ 0x9e3779b97f4a7c15ULL);

    double loss_sum = 0.0;
    int64_t steps = 0, samples_seen = 0;
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
      at::Tensor order = at::randperm(n, generator, at::TensorOptions().dtype(at::kLong)).to(device);
      for (int64_t batch = 0, begin = 0; batch < epoch_steps; ++batch, begin += config.batch_size) {
        const int64_t len = std::min<int64_t>(config.batch_size, n - begin);
        at::Tensor idx = order.narrow(0, begin, len);
        // Only training batches are augmented; evaluation (training/evaluator.h) sees raw data.
        at::Tensor x =
            augment_batch(data.normalize(data.images.index_select(0, idx)), config.augment, augment_generator);
        at::Tensor y = data.labels.index_select(0, idx);
        optimizer.zero_grad();
        at::Tensor features, logits;
        if (algorithm && algorithm->needs_features()) {
          features = model.features(x);
          logits = model.classify(features);
        } else {
          logits = model.forward(x);
        }
        at::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
        at::Tensor objective = loss;
        if (algorithm) {
          const TrainingStep step{&model, &x, &y, &logits, features.defined() ? &features : nullptr, steps};
          at::Tensor term = algorithm->loss_term(step);
          if (term.defined()) objective = loss + term;
        }
        objective.backward();
        if (config.prox_mu > 0) add_proximal_gradient(params, anchor, config.prox_mu);
        if (algorithm) {
          torch::NoGradGuard no_grad;
          algorithm->correct_gradients(params);
        }
        if (exchange) {
          torch::NoGradGuard no_grad;
          Status averaged = exchange->average(params);
          if (!averaged.ok()) return averaged.with_context("averaging gradients at step " + std::to_string(steps));
        }
        optimizer.step();
        if (algorithm) {
          torch::NoGradGuard no_grad;
          algorithm->after_step(params);
        }
        // The cross-entropy is what is reported (comparable across algorithms); the whole objective
        // must stay finite too.
        const double value = loss.item<double>();
        const double total = objective.is_same(loss) ? value : objective.item<double>();
        if (!std::isfinite(total))
          return invalid_argument_error("training loss became " + std::to_string(total) + " at step " +
                                        std::to_string(steps) + " (lower the learning rate?)");
        loss_sum += value * static_cast<double>(len);
        samples_seen += len;
        ++steps;
      }
    }
    TrainResult result;
    result.mean_loss = loss_sum / static_cast<double>(samples_seen);
    result.num_samples = n;
    result.steps = steps;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  } catch (const std::exception& e) {
    return internal_error("local training failed: " + torch_error_message(e));
  }
}

}  // namespace flotilla
