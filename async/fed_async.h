// FedAsync (Xie, Koyejo, Gupta 2019): every update is mixed into the global model as it arrives,
//     x <- (1 - a_t) x + a_t x_client,   a_t = alpha * s(tau).
// Floating tensors are mixed in their dtype; integer and bool tensors (counters such as
// num_batches_tracked) are mixed in double and rounded to the nearest integer.
#pragma once

#include "async/async_rule.h"

namespace flotilla {

class FedAsync final : public AsyncRule {
 public:
  // alpha in (0, 1] (validated by AsyncOptions; checked here as our own invariant).
  explicit FedAsync(double alpha);
  // Absorbed::weight is a_t.
  StatusOr<Absorbed> absorb(const AsyncContribution& contribution) override;
  std::string name() const override { return "fedasync"; }

 private:
  double alpha_;
};

}  // namespace flotilla
