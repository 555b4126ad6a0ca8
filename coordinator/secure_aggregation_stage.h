// SecureAggregationStage: what secure aggregation (--secagg on) adds to synchronous rounds. Each
// round's clients answer through the protocol of coordinator/secure_round.h instead of sending
// their updates, and the coordinator aggregates the one thing it learns: the sum of the
// survivors' weighted, clipped deltas and of their weights (secagg/update_vector.h).
//
// Rules: any rule that folds updates into a sum and takes no extras from clients (FedAvg,
// FedAvgM, FedAdam, FedYogi, FedAdagrad, FedProx, DP-FedAvg); the sum goes to it as one update,
// global + sum / weights, with the summed weight, which is exactly what its fold would have made
// of the individual updates (up to the fixed-point rounding docs/privacy.md bounds). And the rules
// of takes_summed_extras(), whose server step is a weighted mean of the models and a plain sum of
// the clients' extras: the same one update, carrying the extras' sum, goes to aggregate(). The
// rest are refused at start-up by name (coordinator.cc). With --dp central the clients add the noise
// in shares: each of the at least t clients whose input reaches the sum adds N(0, (zC)^2 / t),
// so any completed round carries at least the noise DP-FedAvg needs, whoever dropped out.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "aggregators/aggregator.h"
#include "coordinator/round_stage.h"
#include "coordinator/secure_round.h"
#include "privacy/dp_fedavg.h"
#include "secagg/secagg_options.h"
#include "secagg/update_vector.h"

namespace flotilla {

// Whether rule `name`'s aggregate() gives the same model from one update carrying the weighted
// mean and the sum of the extras as from the individual updates: SCAFFOLD (x moves by the weighted
// mean, c by the sum of delta_c over N). FedNova (each update divided by its own step count),
// FedDyn and MOON are not sums of what their clients send.
bool takes_summed_extras(const std::string& name);

class SecureAggregationStage final : public RoundStage {
 public:
  // `dp`: the run's DP-FedAvg rule under --dp central, and `inner` its privacy stage (sampling,
  // task settings, epsilon, the target's stop), which this stage passes those hooks to; both
  // outlive the stage, both null without DP. `max_weight`: the largest sample count a client
  // brings (1 under DP: equal weights). `graph_key`: seeds each round's neighbour graph.
  // `summed_extras`: the layout of the extras a takes_summed_extras() rule's clients send (empty:
  // none).
  SecureAggregationStage(SecAggOptions options, DpFedAvg* dp, const RoundStage* inner, int64_t max_weight,
                         uint64_t graph_key, ModelState summed_extras = ModelState());

  std::optional<std::string> stop_before(int round) const override { return inner_.stop_before(round); }
  std::vector<int> sample(const std::vector<int>& available, std::vector<int> fixed, int round) const override {
    return inner_.sample(available, std::move(fixed), round);
  }
  void prepare_task(msg::RoundTask& task) const override { inner_.prepare_task(task); }
  void record(RoundMetrics& metrics) const override { inner_.record(metrics); }

  // Who takes part is fixed when the tasks go out (the graph joins them): a round goes on with
  // the clients the protocol recovers, so it neither waits for --min-fit answers nor replaces
  // clients; too few survivors fail it, saying how many against the threshold.
  int min_fit(int configured) const override {
    (void)configured;
    return 0;
  }
  bool replaces_failed_clients() const override { return false; }
  StatusOr<std::unique_ptr<SecureRound>> open_secure_round(int round, const std::vector<int>& participants,
                                                           const ModelState& global) const override;
  StatusOr<ModelState> aggregate_secure_sum(const SecureRound& secure, const AggregationRound& round,
                                            Aggregator& rule) const override;

  // t for a round of `participants` clients (each with min(k, n - 1) neighbours).
  int threshold_for(int participants) const;
  const SecAggOptions& options() const { return options_; }

 private:
  SecAggOptions options_;
  DpFedAvg* dp_;
  const RoundStage plain_rounds_;
  const RoundStage& inner_;
  int64_t max_weight_;
  uint64_t graph_key_;
  ModelState summed_extras_;
};

}  // namespace flotilla
