// PrivacyStage: what differential privacy (--dp) adds to synchronous rounds, beside the
// aggregation itself (privacy/dp_fedavg.h): who is sampled (Poisson, with a secret seed, for
// central DP), what each task tells its clients (clip norm, local noise), epsilon after every round
// (privacy/rdp_accountant.h), and the stop before a round that would take it past the target.
// docs/privacy.md says what each number means.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "coordinator/round_stage.h"
#include "privacy/dp_fedavg.h"
#include "privacy/rdp_accountant.h"
#include "protocol/messages.h"

namespace flotilla {

class PrivacyStage final : public RoundStage {
 public:
  // `rule`: the run's DP aggregator (outlives the stage); `sampling_rate`: --fraction, each
  // client's chance of taking part in a round.
  PrivacyStage(const DpFedAvg& rule, double sampling_rate);

  // The round's clients. Central DP: Poisson sampling at the sampling rate from the secret seed.
  // Local DP: `fixed` as given (each client's noise protects it whoever is sampled).
  std::vector<int> sample(const std::vector<int>& available, std::vector<int> fixed, int round) const override;
  // A round goes on with however many of its sample answer, none included (the noise alone then
  // moves the model): the mechanism the accountant counts is defined for any number. Nobody is
  // replaced: who takes part is the sampling's alone.
  int min_fit(int configured) const override {
    (void)configured;
    return 0;
  }
  bool replaces_failed_clients() const override { return false; }
  // Every task carries the clip norm, the local noise and whether to report the unclipped bit.
  void prepare_task(msg::RoundTask& task) const override;
  // Why the run stops before `round` (its epsilon would pass --dp-opt target_epsilon), or nothing.
  std::optional<std::string> stop_before(int round) const override;
  // Epsilon after `rounds` rounds, for the options' delta. Central: of the federation (client-level,
  // Poisson-subsampled Gaussian). Local: of a client that took part in every one of those rounds
  // (the Gaussian mechanism with sensitivity 2C, no amplification).
  double epsilon_after(int rounds) const;
  // Adds the round's privacy numbers to metrics.policy: epsilon, delta, clip norm, noise, clipped
  // updates, the noisy unclipped share (adaptive).
  void record(RoundMetrics& metrics) const override;

 private:
  const DpFedAvg& rule_;
  double sampling_rate_;
  RdpAccountant one_round_;  // the RDP of one round, at every order
};

}  // namespace flotilla
