// The server half of algorithms that change only the client (FedProx, MOON): the sample-weighted
// FedAvg mean, plus the client half every task runs. Stateless.
#pragma once

#include <string>

#include "aggregators/aggregator.h"
#include "core/client_half.h"

namespace flotilla {

class AveragingServer final : public Aggregator {
 public:
  // `rule` names the rule in errors (a checkpoint of another rule is refused by it).
  AveragingServer(std::string rule, ClientHalf half) : rule_(std::move(rule)), half_(std::move(half)) {}
  ClientHalf client_half() const override { return half_; }
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  ModelState save_state() const override { return ModelState(); }
  Status restore_state(const ModelState& state) override;

 private:
  std::string rule_;
  ClientHalf half_;
};

}  // namespace flotilla
