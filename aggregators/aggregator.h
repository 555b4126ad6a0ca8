// Aggregator: turns the round's client updates into the next global model. The coordinator
// knows only this interface; concrete rules are added to an AggregatorRegistry by name.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/model_state.h"
#include "core/registry.h"
#include "core/status.h"

namespace flotilla {

// One client's answer to a round task.
struct ClientUpdate {
  int client_id = -1;
  int64_t num_samples = 0;  // the aggregation weight
  ModelState state;         // same layout as the global state it was trained from
  double train_loss = 0.0;
};

// Everything an aggregator sees of one round.
struct AggregationRound {
  int round = 0;                          // 1-based
  const ModelState* global = nullptr;     // the global model the clients started from
  std::span<const ClientUpdate> updates;  // sorted by client_id, at least one, layouts checked
  std::span<const int> failures;          // sampled clients that did not answer (timeout, error)
};

// Called from the coordinator's round loop only (one thread). May keep state across rounds
// (server momentum, adaptive moments); that state belongs to the instance, and save_state /
// restore_state carry it through a checkpoint so that a resumed run continues bit-identically.
class Aggregator {
 public:
  virtual ~Aggregator() = default;
  // The new global state, same layout as *round.global. Errors (e.g. all weights zero) fail the
  // round with that message.
  virtual StatusOr<ModelState> aggregate(const AggregationRound& round) = 0;
  // The rule's state carried across rounds (server momentum, adaptive moments, step counters), as
  // named tensors, for checkpoints; empty for a stateless rule. Contract: a fresh instance made with
  // the same options, after restore_state(save_state()), produces bit-identical aggregates from then on.
  // The result is a snapshot (deep copy): later rounds do not change it. Scalars are 0-dim tensors.
  virtual ModelState save_state() const = 0;
  // InvalidArgument naming the problem when `state` does not fit this rule (unknown names, shapes),
  // and the instance is left as it was. An empty state means "before round 1". What can only be
  // checked against the model (that the restored tensors match its layout) is checked by the next
  // aggregate(), which then fails the round. The instance keeps its own copy of the tensors.
  virtual Status restore_state(const ModelState& state) = 0;
};

using AggregatorRegistry = Registry<Aggregator>;

// Adds the built-in rules ("fedavg", ...).
Status register_builtin_aggregators(AggregatorRegistry& registry);

}  // namespace flotilla
