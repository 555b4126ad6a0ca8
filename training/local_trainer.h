// Local training of one logical client: SGD with momentum and weight decay over batches sliced
// from tensors already in memory (and on the device), optionally with FedProx's proximal term and
// batch augmentation.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <span>

#include "core/experiment.h"
#include "core/model_state.h"
#include "core/status.h"
#include "datasets/dataset.h"
#include "models/model.h"

namespace flotilla {

class ClientAlgorithm;

// Serverless synchronous data-parallel SGD (--collective-sync gradient): every rank of a group
// trains its own shard, and at each step the gradients are averaged over the ranks before the
// optimizer steps, so the replicas stay equal. The ranks must take the same number of steps.
struct GradientExchange {
  // Each epoch ends after this many batches (every rank passes the same number); > 0.
  int64_t steps_per_epoch = 0;
  // After backward (and the algorithm's corrections), before the optimizer step: replaces the
  // parameters' gradients (same order as model.parameters()) by their mean over the ranks. An
  // error stops training with it, naming the step.
  std::function<Status(std::span<const at::Tensor> parameters)> average;
};

struct TrainResult {
  double mean_loss = 0.0;   // sample-weighted mean of the batch losses over all local steps
  int64_t num_samples = 0;  // samples in the client's training data (the aggregation weight)
  int64_t steps = 0;
  double seconds = 0.0;
};

// Trains `model` in place on `data` (already on `device`). The shuffling order comes from
// `shuffle_seed` alone, so the same inputs give the same model bit for bit on CPU. With
// config.prox_mu > 0 adds mu/2 * ||w - w_global||^2, w_global being the weights at entry.
// config.augment (training/augment.h) transforms each training batch, with random draws seeded
// from `shuffle_seed` too, on a stream separate from the shuffling (same order either way).
// `algorithm` (may be null: plain SGD), whose begin() the caller has run, adds its loss term and
// corrects the gradients at every step (training/client_algorithm.h).
// InvalidArgument for an empty dataset or a bad config; DataLoss-free; a non-finite loss stops
// training with an error naming the step. config.local_threads != 1 hands the task to
// train_hogwild() (training/hogwild.h), which has its own limits (and no `exchange`).
// `exchange` (may be null): gradients averaged with other ranks at every step (see above).
StatusOr<TrainResult> train_local(Model& model, const TensorDataset& data, const TrainConfig& config,
                                  c10::Device device, uint64_t shuffle_seed, ClientAlgorithm* algorithm = nullptr,
                                  const GradientExchange* exchange = nullptr);

// The checks train_local() makes of its data size and config before training (InvalidArgument),
// leaving out config.local_threads, which train_hogwild() checks.
Status check_train_config(int64_t num_samples, const TrainConfig& config);

// FedProx's proximal gradient: adds mu * (w - anchor) to each parameter's gradient (the gradient
// of mu/2 ||w - anchor||^2). Parameters without a gradient are skipped. No autograd.
void add_proximal_gradient(std::span<const at::Tensor> parameters, std::span<const at::Tensor> anchor, double mu);

}  // namespace flotilla
