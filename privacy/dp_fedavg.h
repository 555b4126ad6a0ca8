// DpFedAvg: client-level differentially private aggregation (McMahan et al. 2018, "Learning
// Differentially Private Recurrent Language Models") around any averaging rule.
//
// Each round, with Poisson sampling of rate q over N clients (expected_clients = qN):
//   central: every accepted update's delta (trained - global) is clipped to C, the clipped deltas
//            are summed with equal weights, Gaussian noise of standard deviation z_update * C is
//            added to the sum, and the sum is divided by qN, the fixed denominator of the paper's
//            analysis (a denominator that depended on who answered would itself leak);
//   local:   every client noised its own clipped delta; the deltas are averaged as they come.
// The result, global + noised mean delta, goes to the wrapped rule as the round's one update, so
// its server step (server learning rate, momentum, adaptive moments) runs as it always does; a
// rule whose step only post-processes the mean keeps the guarantee. Rules that need individual
// updates (median, Krum...) or that take extras from clients (SCAFFOLD, FedDyn, FedNova) are
// refused by name: they would see what DP must hide, or sum what was never clipped.
//
// Adaptive clipping (Andrew et al. 2021, "Differentially Private Learning with Adaptive
// Clipping"): each client also sends whether its update was within C (the extra "dp.unclipped");
// the share is counted with Gaussian noise sigma_b and C moves geometrically towards the target
// quantile. The update noise is then z_update = (z^-2 - (2 sigma_b)^-2)^(-1/2), so that the two
// releases together cost what noise multiplier z alone would (the paper's Theorem 1).
//
// The noise key is drawn from OpenSSL's CSPRNG when the run starts and kept in the rule's state:
// the checkpoint holds it, so a resumed run adds the same noise (bit-identical resume), and only
// the coordinator, which central DP trusts, knows it.
#pragma once

#include <memory>
#include <string>

#include "aggregators/aggregator.h"
#include "privacy/dp_options.h"
#include "privacy/update_clipping.h"

namespace flotilla {

class DpFedAvg final : public Aggregator {
 public:
  // `inner`: the rule whose server step runs on the noised mean; `inner_name` names it in errors.
  // `expected_clients`: qN, > 0. `noise_key`: secret (privacy/gaussian_noise.h secret_seed()).
  DpFedAvg(std::unique_ptr<Aggregator> inner, std::string inner_name, DpOptions options, double expected_clients,
           uint64_t noise_key);

  Status prepare(const AlgorithmSetup& setup) override;
  ClientHalf client_half() const override { return inner_->client_half(); }
  ModelState task_extras(int round) const override { return inner_->task_extras(round); }
  std::unique_ptr<UpdateFold> begin_fold(const ModelState& global) override;
  ModelState expected_update_extras() const override;
  Status check_update(const ClientUpdate& update) const override;
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  // The inner rule's state under "inner/", and "dp/clip_norm", "dp/noise_key".
  ModelState save_state() const override;
  Status restore_state(const ModelState& state) override;

  // Secure aggregation with central DP (coordinator/secure_aggregation_stage.h): the clients
  // clipped their deltas and added the noise in shares, and `delta_sum` (float64, the global
  // model's layout) is their sum over `contributors` clients, noise included; under adaptive
  // clipping `noisy_unclipped` is the count of updates within C, its noise also added in shares.
  // The same server step as a folded round: the sum over qN, the wrapped rule, C's update.
  StatusOr<ModelState> aggregate_noised_sum(const AggregationRound& round, const ModelState& delta_sum,
                                            int contributors, double noisy_unclipped);

  // The clip norm the next round's clients clip to (fixed, or as adaptive clipping moved it).
  double clip_norm() const { return clip_norm_; }
  // The noise multiplier of the update itself (below the options' z under adaptive clipping).
  double update_noise_multiplier() const { return update_noise_multiplier_; }
  // The count noise of adaptive clipping, sigma_b (0 when not adaptive).
  double count_noise_stddev() const { return count_noise_stddev_; }
  const DpOptions& options() const { return options_; }
  // The seed of the rounds' Poisson sampling: derived from the secret noise key, since amplification
  // by sampling holds only while who was sampled stays secret.
  uint64_t sampling_seed() const;

  // What the last aggregated round did, for its metrics.
  struct RoundReport {
    int updates = 0;               // folded in
    int clipped = 0;               // over the clip norm before clipping (adaptive: as clients said)
    int clipped_by_server = 0;     // arrived over the clip norm (a client that did not clip)
    double clip_norm = 0.0;        // the round's C
    double noise_stddev = 0.0;     // of the noise added to the mean delta, per element
    double unclipped_share = 0.0;  // adaptive: the noisy share that moved C
  };
  const RoundReport& last_round() const { return last_round_; }

 private:
  class Fold;
  // global + `mean` (the noised mean delta) through the wrapped rule's server step; records
  // `report` and moves C under adaptive clipping.
  StatusOr<ModelState> step(const AggregationRound& round, const ModelState& mean, RoundReport report,
                            double noisy_unclipped);

  std::unique_ptr<Aggregator> inner_;
  std::string inner_name_;
  DpOptions options_;
  double expected_clients_;
  uint64_t noise_key_;
  double clip_norm_;
  double update_noise_multiplier_;
  double count_noise_stddev_ = 0.0;
  RoundReport last_round_;
};

}  // namespace flotilla
