#include "aggregators/fed_opt.h"

#include <ATen/ATen.h>

#include <sstream>

#include "aggregators/option_checks.h"
#include "aggregators/rule_state.h"

namespace flotilla {

std::unique_ptr<UpdateFold> FedOpt::begin_fold(const ModelState& global) {
  return std::make_unique<WeightedMeanFold>(
      global, [this](const AggregationRound& round, ModelState mean) { return server_step(round, std::move(mean)); });
}

StatusOr<ModelState> FedOpt::aggregate(const AggregationRound& round) { return aggregate_by_folding(*this, round); }

StatusOr<ModelState> FedOpt::server_step(const AggregationRound& round, ModelState next) {
  const ModelState& global = *round.global;
  if (m_.empty()) {
    for (const auto& e : global.entries()) {
      m_.add(e.name, at::zeros_like(e.tensor));
      v_.add(e.name, at::full_like(e.tensor, options_.tau * options_.tau));
    }
  } else {
    RETURN_IF_ERROR(check_state_fits_model(name(), "m", global, m_));
    RETURN_IF_ERROR(check_state_fits_model(name(), "v", global, v_));
  }
  const double b1 = options_.beta1, b2 = options_.beta2;
  for (size_t i = 0; i < next.size(); ++i) {
    const at::Tensor& w = global[i].tensor;
    if (!w.is_floating_point()) continue;
    const at::Tensor delta = next[i].tensor - w;
    const at::Tensor delta2 = delta.square();
    at::Tensor& m = m_.mutable_entries()[i].tensor;
    at::Tensor& v = v_.mutable_entries()[i].tensor;
    m.mul_(b1).add_(delta, 1 - b1);
    switch (kind_) {
      case FedOptKind::kAdagrad:
        v.add_(delta2);
        break;
      case FedOptKind::kAdam:
        v.mul_(b2).add_(delta2, 1 - b2);
        break;
      case FedOptKind::kYogi:
        v.sub_((1 - b2) * delta2 * at::sign(v - delta2));
        break;
    }
    next.mutable_entries()[i].tensor = w + options_.server_lr * m / (v.sqrt() + options_.tau);
  }
  return next;
}

const char* FedOpt::name() const {
  switch (kind_) {
    case FedOptKind::kAdagrad:
      return "fedadagrad";
    case FedOptKind::kAdam:
      return "fedadam";
    case FedOptKind::kYogi:
      return "fedyogi";
  }
  return "fedopt";
}

ModelState FedOpt::save_state() const { return join_state_groups({{"m", &m_}, {"v", &v_}}); }

Status FedOpt::restore_state(const ModelState& state) {
  ASSIGN_OR_RETURN(std::vector<ModelState> parts, split_state_groups(name(), state, {"m", "v"}));
  m_ = std::move(parts[0]);
  v_ = std::move(parts[1]);
  return Status();
}

namespace {

AggregatorRegistry::Entry entry(std::string name, std::string description, FedOptKind kind, FedOptOptions d) {
  auto text = [](double x) {
    std::ostringstream os;
    os << x;
    return os.str();
  };
  return {std::move(name),
          std::move(description),
          {{"server_lr", text(d.server_lr), "server learning rate eta"},
           {"beta1", text(d.beta1), "first-moment decay"},
           {"beta2", text(d.beta2), "second-moment decay (unused by fedadagrad)"},
           {"tau", text(d.tau), "adaptivity: added to sqrt(v); v starts at tau^2"}},
          [kind](const Options& o) -> StatusOr<std::unique_ptr<Aggregator>> {
            FedOptOptions f;
            ASSIGN_OR_RETURN(f.server_lr, read_positive(o, "server_lr"));
            ASSIGN_OR_RETURN(f.beta1, read_unit_interval(o, "beta1"));
            ASSIGN_OR_RETURN(f.beta2, read_unit_interval(o, "beta2"));
            ASSIGN_OR_RETURN(f.tau, read_positive(o, "tau"));
            return std::unique_ptr<Aggregator>(new FedOpt(kind, f));
          }};
}

}  // namespace

AggregatorRegistry::Entry FedOpt::fedadagrad_entry() {
  return entry("fedadagrad", "adaptive server optimiser, Adagrad form (Reddi et al. 2021)", FedOptKind::kAdagrad,
               {0.1, 0.0, 0.99, 1e-9});
}
AggregatorRegistry::Entry FedOpt::fedadam_entry() {
  return entry("fedadam", "adaptive server optimiser, Adam form (Reddi et al. 2021)", FedOptKind::kAdam,
               {0.1, 0.9, 0.99, 1e-9});
}
AggregatorRegistry::Entry FedOpt::fedyogi_entry() {
  return entry("fedyogi", "adaptive server optimiser, Yogi form (Reddi et al. 2021)", FedOptKind::kYogi,
               {0.01, 0.9, 0.99, 1e-3});
}

}  // namespace flotilla
