// Adaptive server optimisers of Reddi et al. 2021, "Adaptive Federated Optimization" (Algorithm 2):
// FedAdagrad, FedAdam and FedYogi. With delta = mean_k(w_k) - w (sample-weighted):
//   m <- beta1 m + (1 - beta1) delta
//   v <- v + delta^2                                   (adagrad)
//   v <- beta2 v + (1 - beta2) delta^2                 (adam)
//   v <- v - (1 - beta2) delta^2 sign(v - delta^2)     (yogi)
//   w <- w + server_lr * m / (sqrt(v) + tau)
// m starts at 0 and v at tau^2; no bias correction (the paper has none). Defaults are Flower's.
// Integer tensors (counters) take the weighted average, rounded.
#pragma once

#include "aggregators/aggregator.h"
#include "aggregators/update_fold.h"

namespace flotilla {

enum class FedOptKind { kAdagrad, kAdam, kYogi };

struct FedOptOptions {
  double server_lr = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double tau = 1e-9;
};

class FedOpt final : public Aggregator {
 public:
  FedOpt(FedOptKind kind, FedOptOptions options) : kind_(kind), options_(options) {}
  // A sum: folds updates as they arrive (the weighted mean, then the server step).
  std::unique_ptr<UpdateFold> begin_fold(const ModelState& global) override;
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  // "m/<tensor>" then "v/<tensor>" for every model tensor; empty before round 1.
  ModelState save_state() const override;
  Status restore_state(const ModelState& state) override;

  static AggregatorRegistry::Entry fedadagrad_entry();
  static AggregatorRegistry::Entry fedadam_entry();
  static AggregatorRegistry::Entry fedyogi_entry();

 private:
  StatusOr<ModelState> server_step(const AggregationRound& round, ModelState mean);
  const char* name() const;

  FedOptKind kind_;
  FedOptOptions options_;
  ModelState m_, v_;  // moments per model entry (used for floating-point ones); empty before round 1
};

}  // namespace flotilla
