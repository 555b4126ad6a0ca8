// TrainingPolicy: how training proceeds over the coordinator's one event loop (ClientHub).
// The coordinator sets a run up (data, model, rule, channel, run directory, resume) and hands it
// to one policy: synchronous rounds (sync_training.h), asynchronous updates with staleness
// (async_training.h), or decentralised collectives among the clients (collective_training.h).
// Each policy drives hub.pump() itself and hears what the clients do through HubListener; the
// rest (taking updates in, evaluating and recording rounds, checkpoints) it shares with the
// others through TrainingContext, so every mode keeps the same guarantees.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "aggregators/aggregator.h"
#include "coordinator/client_hub.h"
#include "coordinator/coordinator_config.h"
#include "coordinator/round_committer.h"
#include "coordinator/round_stage.h"
#include "coordinator/update_intake.h"
#include "core/model_state.h"

namespace flotilla {

// What a policy works with; everything outlives the policy.
struct TrainingContext {
  const CoordinatorConfig& config;
  ClientHub& hub;
  Aggregator& aggregator;
  const UpdateIntake& intake;
  RoundCommitter& committer;
  BackgroundEvaluator& evaluator;  // the committer's; a policy may use it between rounds (flush first)
  ModelState& global;              // the global model: the policy replaces it as training goes
  const ClientHalf& client_half;
  const std::vector<std::vector<int64_t>>& class_counts;  // [client][class], of the partition (or as sites report)
  // [client]: training samples of each client (its partition's, or what its site reported; 0 while
  // unknown), what asynchronous training charges its virtual clock by.
  const std::vector<int64_t>& client_samples;
  const std::atomic<bool>* stop = nullptr;  // set by a signal: stop soon
  // What run options add around synchronous rounds (coordinator/round_stage.h): differential
  // privacy's sampling, task settings and accounting. Null: plain rounds. Only synchronous rounds
  // take one (config validation refuses --dp with the other modes).
  const RoundStage* round_stage = nullptr;

  bool stopping() const { return stop && stop->load(); }
};

class TrainingPolicy : public HubListener {
 public:
  // Trains from round (or server version) `first_round` to the configured end, driving the
  // hub's loop. Returns when done, when training failed (the error says why) or, once
  // ctx.stopping(), Aborted. Recorded rounds are submitted to ctx.committer; the caller
  // flushes it.
  virtual Status run(int first_round) = 0;
};

}  // namespace flotilla
