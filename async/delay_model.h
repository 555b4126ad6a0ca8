// DelayModel: how slow each client is, for asynchrony studies. A delay is virtual seconds added to a
// task (on top of the per-step cost, async/virtual_clock.h), drawn either once per update or once
// per local batch. Spec:
//
//   <distribution>[;slow=<ids>:factor=<f>]
//   constant:value=V[,per=update|batch]           every unit takes V        V >= 0, default 0
//   gaussian:mean=M,std=S[,per=update|batch]      N(M, S^2) truncated at 0 (redrawn until >= 0)
//                                                 M >= 0, S >= 0 (M >= 0 keeps the redraws few)
//   slow=3,7-9:factor=5                           those clients' whole task (steps and delays)
//                                                 takes factor times as long; factor >= 1
//
// e.g. "gaussian:mean=0.5,std=0.2,per=batch;slow=3,7:factor=5". `per` defaults to update.
//
// Reproducible: a draw is a pure function of (seed, client id, update index, batch index), hashed
// with splitmix64 and turned into a normal with Box-Muller, so the same run gives the same delays in
// any order of calls, and on any machine whose libm gives the same std::log and std::cos (glibc's
// are correctly rounded in practice; another libm may differ in the last bit). Immutable;
// thread-safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

class DelayModel {
 public:
  enum class Distribution { kConstant, kGaussian };
  enum class Unit { kPerUpdate, kPerBatch };

  // No delay at all ("constant:value=0,per=update").
  DelayModel() = default;

  // InvalidArgument naming the option ("delay"), the parameter and the value otherwise.
  static StatusOr<DelayModel> parse(const std::string& spec);
  // Canonical spec, every parameter spelled out; parse(to_string()) gives an equal model.
  std::string to_string() const;

  // One delay unit's draw for this client, already multiplied by its slowdown(). >= 0.
  // batch_index is ignored when the unit is per update.
  double sample(uint64_t seed, int client_id, int64_t update_index, int64_t batch_index) const;
  // The delay of a whole task of `num_batches` local batches: one draw per update, or the sum of
  // one draw per batch. >= 0.
  double task_delay(uint64_t seed, int client_id, int64_t update_index, int64_t num_batches) const;
  // factor for a slow client, 1 for the others.
  double slowdown(int client_id) const;

  Distribution distribution() const { return distribution_; }
  Unit unit() const { return unit_; }

 private:
  Distribution distribution_ = Distribution::kConstant;
  Unit unit_ = Unit::kPerUpdate;
  double mean_ = 0.0;  // the constant value, or the Gaussian's mean
  double std_ = 0.0;
  std::vector<int> slow_;  // sorted, unique
  double factor_ = 1.0;
};

}  // namespace flotilla
