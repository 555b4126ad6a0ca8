#include "coordinator/coordinator_config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace flotilla {

int CoordinatorConfig::sample_size(int available) const {
  const int wanted = static_cast<int>(std::ceil(fraction * static_cast<double>(available) - 1e-9));
  return std::min(available, std::max(min_fit, wanted));
}

Status CoordinatorConfig::validate() const {
  const int n = experiment.num_clients;
  if (n < 1) return invalid_argument_error("--clients must be >= 1, got " + std::to_string(n));
  if (rounds < 1) return invalid_argument_error("--rounds must be >= 1, got " + std::to_string(rounds));
  if (min_clients < 0 || min_clients > n)
    return invalid_argument_error("--min-clients must be in [0, --clients=" + std::to_string(n) + "]");
  if (!(fraction > 0 && fraction <= 1)) return invalid_argument_error("--fraction must be in (0, 1]");
  if (min_fit < 1 || min_fit > n)
    return invalid_argument_error("--min-fit must be in [1, --clients=" + std::to_string(n) + "]");
  if (!(round_timeout_s > 0)) return invalid_argument_error("--round-timeout must be > 0 seconds");
  if (!(registration_timeout_s > 0)) return invalid_argument_error("--registration-timeout must be > 0 seconds");
  if (!(heartbeat_interval_s > 0)) return invalid_argument_error("--heartbeat-interval must be > 0 seconds");
  if (!(peer_timeout_s >= 2 * heartbeat_interval_s))
    return invalid_argument_error("--peer-timeout must be at least twice --heartbeat-interval (" +
                                  std::to_string(heartbeat_interval_s) + " s), or a live client looks dead");
  if (train.epochs < 1) return invalid_argument_error("--epochs must be >= 1");
  if (train.batch_size < 1) return invalid_argument_error("--batch-size must be >= 1");
  if (!(train.lr > 0) || !std::isfinite(train.lr)) return invalid_argument_error("--lr must be a finite number > 0");
  if (train.momentum < 0 || train.momentum >= 1) return invalid_argument_error("--momentum must be in [0, 1)");
  if (train.weight_decay < 0) return invalid_argument_error("--weight-decay must be >= 0");
  if (train.prox_mu < 0) return invalid_argument_error("--prox-mu must be >= 0");
  if (!is_known_augment(train.augment))
    return invalid_argument_error("--augment must be none or crop_flip, got '" + train.augment + "'");
  if (experiment.holdout_fraction < 0 || experiment.holdout_fraction >= 1)
    return invalid_argument_error("--holdout-fraction must be in [0, 1)");
  if (eval_batch_size < 1) return invalid_argument_error("--eval-batch-size must be >= 1");
  if (checkpoint_every < 0) return invalid_argument_error("--checkpoint-every must be >= 0");
  return Status();
}

std::string to_json(const CoordinatorConfig& c) {
  const Experiment& e = c.experiment;
  const TrainConfig& t = c.train;
  nlohmann::json j = {
      {"bind", c.bind},
      {"dataset", e.dataset},
      {"data_dir", c.data_dir},
      {"model", e.model},
      {"clients", e.num_clients},
      {"partitioner", e.partitioner},
      {"partitioner_options", e.partitioner_options},
      {"seed", e.seed},
      {"holdout_fraction", e.holdout_fraction},
      {"rounds", c.rounds},
      {"min_clients", c.min_clients},
      {"fraction", c.fraction},
      {"min_fit", c.min_fit},
      {"round_timeout", c.round_timeout_s},
      {"registration_timeout", c.registration_timeout_s},
      {"heartbeat_interval", c.heartbeat_interval_s},
      {"peer_timeout", c.peer_timeout_s},
      {"epochs", t.epochs},
      {"batch_size", t.batch_size},
      {"lr", t.lr},
      {"momentum", t.momentum},
      {"weight_decay", t.weight_decay},
      {"prox_mu", t.prox_mu},
      {"augment", t.augment},
      {"aggregator", c.aggregator},
      {"aggregator_options", c.aggregator_options.values()},
      {"plugins", c.plugins},
      {"device", c.device},
      {"eval_batch_size", c.eval_batch_size},
      {"checkpoint_every", c.checkpoint_every},
  };
  return j.dump(2) + "\n";
}

}  // namespace flotilla
