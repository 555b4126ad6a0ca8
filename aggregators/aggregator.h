// Aggregator: turns the round's client updates into the next global model. The coordinator
// knows only this interface; concrete rules are added to an AggregatorRegistry by name.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/client_half.h"
#include "core/experiment.h"
#include "core/model_state.h"
#include "core/registry.h"
#include "core/status.h"

namespace flotilla {

// One client's answer to a round task.
struct ClientUpdate {
  ClientUpdate() = default;
  // The fields in order; the algorithm's fields may be left out (a rule's tests rarely need them).
  ClientUpdate(int id, int64_t samples, ModelState trained, double loss = 0.0, int64_t local_steps = 0,
               ModelState extra_tensors = ModelState())
      : client_id(id),
        num_samples(samples),
        state(std::move(trained)),
        train_loss(loss),
        steps(local_steps),
        extras(std::move(extra_tensors)) {}

  int client_id = -1;
  int64_t num_samples = 0;  // the aggregation weight
  ModelState state;         // same layout as the global state it was trained from
  double train_loss = 0.0;
  int64_t steps = 0;  // local optimizer steps taken (FedNova normalises by them)
  // What the client half sent beside the model (control variates, normaliser...). Checked against
  // the server half's expected_update_extras() before the update is accepted: same names, dtypes
  // and shapes, finite.
  ModelState extras;
};

// What a rule learns of the run once, before round 1 (and before restore_state on resume).
struct AlgorithmSetup {
  int num_clients = 0;                  // logical clients in the federation (N in SCAFFOLD's c update)
  const ModelState* initial = nullptr;  // the initial global model (layout and dtypes)
  // Names of the trainable parameters (a prefix of the state's entries, in its order); the rest
  // are buffers (batch-norm statistics, counters).
  std::vector<std::string> trainable;
  TrainConfig train;  // what every client trains with
};

// Everything an aggregator sees of one round.
struct AggregationRound {
  int round = 0;                          // 1-based
  const ModelState* global = nullptr;     // the global model the clients started from
  std::span<const ClientUpdate> updates;  // sorted by client_id, at least one, layouts checked
  std::span<const int> failures;          // sampled clients that did not answer (timeout, error)
};

// One round's aggregation done as updates arrive, for a rule that is a sum (see begin_fold() and
// aggregators/update_fold.h).
class UpdateFold {
 public:
  virtual ~UpdateFold() = default;
  // Folds one accepted update in (layout and values already checked by the coordinator). An
  // error rejects that update and leaves the fold as it was.
  virtual Status add(const ClientUpdate& update) = 0;
  // Updates folded so far.
  virtual int count() const = 0;
  // The new global model, once every update of the round is in. `round.updates` is empty (the
  // updates were folded, not kept); global, round number and failures are as for aggregate().
  virtual StatusOr<ModelState> finish(const AggregationRound& round) = 0;
  // Elements whose sum may depend on the arrival order (see exact_weighted_sum.h); 0 normally.
  virtual int64_t inexact_elements() const { return 0; }
};

// Called from the coordinator's round loop only (one thread). May keep state across rounds
// (server momentum, adaptive moments); that state belongs to the instance, and save_state /
// restore_state carry it through a checkpoint so that a resumed run continues bit-identically.
//
// An algorithm that changes the client too (SCAFFOLD, FedDyn, MOON...) is a server half, this
// class, naming its client half (training/client_algorithm.h) in client_half(); the coordinator
// sends that name, task_extras() and the global model with every task, and checks what comes
// back against expected_update_extras(). docs/algorithms.md teaches both halves.
class Aggregator {
 public:
  virtual ~Aggregator() = default;
  // Called once before round 1 (and before restore_state when a run resumes). A rule that cannot
  // serve this run (wrong dtypes, options that do not fit the training config) says why here.
  virtual Status prepare(const AlgorithmSetup& setup) {
    (void)setup;
    return Status();
  }
  // The client half every task of this rule runs; plain local SGD ("sgd") unless overridden.
  virtual ClientHalf client_half() const { return ClientHalf{}; }
  // Named tensors sent with every task of `round` beside the model (SCAFFOLD's server control
  // variate); empty by default. Travel as frames like the model's and count in its traffic.
  virtual ModelState task_extras(int round) const {
    (void)round;
    return ModelState();
  }
  // Rules that are sums return a fold (aggregators/update_fold.h) that the coordinator feeds each
  // update as it arrives, so that it keeps none of them; finish() of the fold must equal
  // aggregate() bit for bit whatever the order. Null (the default): the rule needs the whole
  // round at once, and the coordinator keeps every update until the round ends.
  virtual std::unique_ptr<UpdateFold> begin_fold(const ModelState& global) {
    (void)global;
    return nullptr;
  }
  // The names, dtypes and shapes of the extras every update must carry (values are ignored);
  // empty by default, and then an update with extras is rejected.
  virtual ModelState expected_update_extras() const { return ModelState(); }
  // Checks of one update's values that its layout cannot show (FedNova's step norm must be > 0),
  // run as the update arrives, after the layout and finiteness checks. An error rejects that
  // update for its round, naming the problem; the round goes on with the others. So a client
  // cannot fail a round by itself with values aggregate() would refuse.
  virtual Status check_update(const ClientUpdate& update) const {
    (void)update;
    return Status();
  }
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
