// FedAvg (McMahan et al. 2017): the sample-weighted mean of the client models. With a server
// learning rate eta != 1 the server moves the global model by eta times the averaged update
// (w + eta * (avg - w)); eta = 1 is plain FedAvg, and with one local step it is FedSGD.
#pragma once

#include "aggregators/aggregator.h"
#include "aggregators/update_fold.h"

namespace flotilla {

struct FedAvgOptions {
  double server_lr = 1.0;  // eta; > 0
};

class FedAvg final : public Aggregator {
 public:
  explicit FedAvg(FedAvgOptions options) : options_(options) {}
  // A sum: folds updates as they arrive (the weighted mean, then the server step).
  std::unique_ptr<UpdateFold> begin_fold(const ModelState& global) override;
  StatusOr<ModelState> aggregate(const AggregationRound& round) override;
  ModelState save_state() const override { return ModelState(); }  // stateless
  Status restore_state(const ModelState& state) override;

  static AggregatorRegistry::Entry registry_entry();

 private:
  StatusOr<ModelState> server_step(const AggregationRound& round, ModelState mean);

  FedAvgOptions options_;
};

}  // namespace flotilla
