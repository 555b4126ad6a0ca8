#include "aggregators/fed_avg.h"

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"
#include "aggregators/server_step.h"

namespace flotilla {

std::unique_ptr<UpdateFold> FedAvg::begin_fold(const ModelState& global) {
  return std::make_unique<WeightedMeanFold>(
      global, [this](const AggregationRound& round, ModelState mean) { return server_step(round, std::move(mean)); });
}

StatusOr<ModelState> FedAvg::aggregate(const AggregationRound& round) { return aggregate_by_folding(*this, round); }

StatusOr<ModelState> FedAvg::server_step(const AggregationRound& round, ModelState mean) {
  return apply_server_lr(*round.global, std::move(mean), options_.server_lr);
}

Status FedAvg::restore_state(const ModelState& state) { return check_stateless("fedavg", state); }

AggregatorRegistry::Entry FedAvg::registry_entry() {
  return {"fedavg",
          "Federated averaging, weighted by client sample counts (McMahan et al. 2017)",
          {server_lr_option()},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            ASSIGN_OR_RETURN(double lr, read_positive(o, "server_lr"));
            return std::unique_ptr<Aggregator>(new FedAvg(FedAvgOptions{lr}));
          }};
}

}  // namespace flotilla
