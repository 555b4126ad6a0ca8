// The server half of algorithms that change only the client (FedProx, MOON): the sample-weighted
// FedAvg mean, plus the client half every task runs. Stateless.
#pragma once

#include <string>

#include "aggregators/aggregator.h"
#include "aggregators/update_fold.h"
#include "core/client_half.h"

namespace flotilla {

class AveragingServer final : public Aggregator {
 public:
  // `rule` names the rule in errors (a checkpoint of another rule is refused by it).
  AveragingServer(std::string rule, ClientHalf half) : rule_(std::move(rule)), half_(std::move(half)) {}
  ClientHalf client_half() const override { return half_; }
  // A sum: folds updates as they arrive (the weighted mean, then the server step).
  std::unique_ptr<UpdateFold> begin_fold(const ModelState& global) override;
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  ModelState save_state() const override { return ModelState(); }
  Status restore_state(const ModelState& state) override;

 private:
  StatusOr<ModelState> server_step(const AggregationRound& round, ModelState mean);

  std::string rule_;
  ClientHalf half_;
};

}  // namespace flotilla
