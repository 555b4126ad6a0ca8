// FedAvgM (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution"): FedAvg
// with server momentum. With the pseudo-gradient d = w - mean_k(w_k):
//   v <- beta * v + d;   w <- w - server_lr * v        (v starts at 0)
// Integer tensors (counters) take the weighted average, rounded.
#pragma once

#include "aggregators/aggregator.h"
#include "aggregators/update_fold.h"

namespace flotilla {

struct FedAvgMOptions {
  double server_lr = 1.0;
  double momentum = 0.9;  // beta
};

class FedAvgM final : public Aggregator {
 public:
  explicit FedAvgM(FedAvgMOptions options) : options_(options) {}
  // A sum: folds updates as they arrive (the weighted mean, then the server step).
  std::unique_ptr<UpdateFold> begin_fold(const ModelState& global) override;
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  // "velocity/<tensor>" for every model tensor (integer ones stay 0); empty before round 1.
  ModelState save_state() const override;
  Status restore_state(const ModelState& state) override;
  static AggregatorRegistry::Entry registry_entry();

 private:
  StatusOr<ModelState> server_step(const AggregationRound& round, ModelState mean);

  FedAvgMOptions options_;
  ModelState velocity_;  // one tensor per model entry (used for floating-point ones); empty before round 1
};

}  // namespace flotilla
