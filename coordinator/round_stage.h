// RoundStage: what a run option adds around the fixed steps of a synchronous round (sample,
// send tasks, collect, aggregate, record), so that such options are stages the loop calls, not
// branches in it. The base class is plain rounds; differential privacy is one
// (coordinator/privacy_stage.h), secure aggregation another (coordinator/secure_aggregation_stage.h),
// which wraps the privacy stage when both are on.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aggregators/aggregator.h"
#include "coordinator/round_metrics.h"
#include "coordinator/secure_round.h"
#include "protocol/messages.h"

namespace flotilla {

class RoundStage {
 public:
  virtual ~RoundStage() = default;

  // Why the run ends (successfully) before `round`, or nothing to let it run.
  virtual std::optional<std::string> stop_before(int round) const {
    (void)round;
    return std::nullopt;
  }
  // The round's clients: `fixed` is the seeded fixed-size sample of `available`.
  virtual std::vector<int> sample(const std::vector<int>& available, std::vector<int> fixed, int round) const {
    (void)available;
    (void)round;
    return fixed;
  }
  // The fewest answers the round goes on with (--min-fit as configured), and whether clients
  // that fail are replaced by others not yet tried.
  virtual int min_fit(int configured) const { return configured; }
  virtual bool replaces_failed_clients() const { return true; }
  // Adds what every task of the round carries for this stage.
  virtual void prepare_task(msg::RoundTask& task) const { (void)task; }
  // Adds the stage's numbers to the aggregated round's metrics.
  virtual void record(RoundMetrics& metrics) const {
    (void)metrics;
  }  // Secure aggregation: the protocol the round's `participants` answer through (its task() is
  // what their tasks carry of it). Null (the default): updates arrive in the clear.
  virtual StatusOr<std::unique_ptr<SecureRound>> open_secure_round(int round, const std::vector<int>& participants,
                                                                   const ModelState& global) const {
    (void)round;
    (void)participants;
    (void)global;
    return std::unique_ptr<SecureRound>();
  }
  // The next global model from a finished secure round's sum, through `rule`.
  virtual StatusOr<ModelState> aggregate_secure_sum(const SecureRound& secure, const AggregationRound& round,
                                                    Aggregator& rule) const {
    (void)secure;
    (void)round;
    (void)rule;
    return failed_precondition_error("this run has no secure aggregation");
  }
};

}  // namespace flotilla
