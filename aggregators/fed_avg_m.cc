#include "aggregators/fed_avg_m.h"

#include <ATen/ATen.h>

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"

namespace flotilla {

std::unique_ptr<UpdateFold> FedAvgM::begin_fold(const ModelState& global) {
  return std::make_unique<WeightedMeanFold>(
      global, [this](const AggregationRound& round, ModelState mean) { return server_step(round, std::move(mean)); });
}

StatusOr<ModelState> FedAvgM::aggregate(const AggregationRound& round) { return aggregate_by_folding(*this, round); }

StatusOr<ModelState> FedAvgM::server_step(const AggregationRound& round, ModelState next) {
  const ModelState& global = *round.global;
  if (velocity_.empty()) {
    for (const auto& e : global.entries()) velocity_.add(e.name, at::zeros_like(e.tensor));
  } else {
    RETURN_IF_ERROR(check_state_fits_model("fedavgm", "velocity", global, velocity_));
  }
  for (size_t i = 0; i < next.size(); ++i) {
    const at::Tensor& w = global[i].tensor;
    if (!w.is_floating_point()) continue;
    at::Tensor& v = velocity_.mutable_entries()[i].tensor;
    v.mul_(options_.momentum).add_(w - next[i].tensor);
    next.mutable_entries()[i].tensor = w - options_.server_lr * v;
  }
  return next;
}

ModelState FedAvgM::save_state() const { return join_state_groups({{"velocity", &velocity_}}); }

Status FedAvgM::restore_state(const ModelState& state) {
  ASSIGN_OR_RETURN(std::vector<ModelState> parts, split_state_groups("fedavgm", state, {"velocity"}));
  velocity_ = std::move(parts[0]);
  return Status();
}

AggregatorRegistry::Entry FedAvgM::registry_entry() {
  return {"fedavgm",
          "FedAvg with server momentum (Hsu et al. 2019)",
          {{"server_lr", "1.0", "server learning rate eta"},
           {"momentum", "0.9", "server momentum beta: v <- beta v + (w - mean w_k)"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            FedAvgMOptions f;
            ASSIGN_OR_RETURN(f.server_lr, read_positive(o, "server_lr"));
            ASSIGN_OR_RETURN(f.momentum, read_unit_interval(o, "momentum"));
            return std::unique_ptr<Aggregator>(new FedAvgM(f));
          }};
}

}  // namespace flotilla
