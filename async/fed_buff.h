// FedBuff (Nguyen et al. 2022): updates are buffered as deltas Delta_i = x_client - x_base(i), each
// relative to the version its client started from, and every K-th update moves the model once:
//     x <- x + eta_g * sum_i s(tau_i) w_i Delta_i / sum_i w_i
// with w_i = n_i (sample-weighted, the default) or 1 (the paper's plain mean over K, where
// s(tau) < 1 shortens the step rather than being normalised away), eta_g the server learning rate.
// The version advances once per K updates.
//
// Equality with synchronous FedAvg, BIT-IDENTICAL (not just up to rounding): when every update in
// a buffer started from the current version (tau = 0 for all, hence s(tau) = 1 for every staleness
// function), the buffer is also folded as client MODELS into the ExactWeightedSum FedAvg uses, and
// the flush is exactly FedAvg's computation: apply_server_lr(x, weighted_average(models), eta_g).
// So FedBuff with K = N, no delays (all N clients start from x and answer before the flush) gives
// the very bits FedAvg gives on the same updates, in any arrival order. As soon as one buffered
// update is stale, the flush uses the delta sum instead, accumulated in float64 in arrival order
// (rounded once to each tensor's dtype; its last bits may depend on that order).
//
// Memory: one float64 delta sum (8 bytes per model element) plus, while the buffer is fresh, the
// exact model sum (16 bytes per element); independent of K.
#pragma once

#include <optional>
#include <vector>

#include "aggregators/exact_weighted_sum.h"
#include "async/async_rule.h"

namespace flotilla {

struct FedBuffOptions {
  int buffer_size = 10;         // K, >= 1
  double server_lr = 1.0;       // eta_g, > 0
  bool sample_weighted = true;  // w_i = n_i; false: w_i = 1
};

class FedBuff final : public AsyncRule {
 public:
  explicit FedBuff(FedBuffOptions options);
  // Absorbed::weight is s(tau) * w_i (normalised by sum w_i at the flush).
  StatusOr<Absorbed> absorb(const AsyncContribution& contribution) override;
  int buffered() const override { return count_; }
  std::string name() const override { return "fedbuff"; }

 private:
  StatusOr<ModelState> flush(const ModelState& global);
  void clear();

  FedBuffOptions options_;
  int count_ = 0;
  int64_t total_weight_ = 0;                // sum w_i
  std::vector<at::Tensor> delta_sum_;       // float64, sum s_i w_i Delta_i
  std::optional<ExactWeightedSum> models_;  // sum w_i x_client_i while every tau is 0
  bool fresh_ = true;                       // every buffered update had tau = 0
};

}  // namespace flotilla
