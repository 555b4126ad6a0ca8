// RoundCommitter: how a finished round becomes part of the run's record, whatever the training
// policy. A round's global model is evaluated on the BackgroundEvaluator's thread while the next
// round trains; once that evaluation is done the round is committed: its metrics line, then its
// checkpoint (model and aggregator state), then its stdout line. A checkpoint is written only
// after its round's metrics are, so a resumed run never lacks a recorded round. At most one round
// is pending at a time. Coordinator thread only.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "coordinator/background_evaluator.h"
#include "coordinator/round_metrics.h"
#include "coordinator/run_observer.h"
#include "coordinator/run_recorder.h"
#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

struct RoundCommitterOptions {
  int rounds = 0;            // the run's last round, for the stdout line ("round 3/10")
  int checkpoint_every = 1;  // 0: never
  std::string run_dir;
  std::string fingerprint;  // config_fingerprint(), stored in every checkpoint
  std::string aggregator;   // the rule's name, stored in every checkpoint
  // Told when a round closes (submit, record_failed) and when it is committed; not owned. Null:
  // nobody watches.
  RunObserver* observer = nullptr;
};

class RoundCommitter {
 public:
  RoundCommitter(RoundCommitterOptions options, RunRecorder& recorder, BackgroundEvaluator& evaluator)
      : options_(std::move(options)), recorder_(recorder), evaluator_(evaluator) {}

  bool checkpoint_due(int round) const {
    return options_.checkpoint_every > 0 && round % options_.checkpoint_every == 0;
  }

  // Round metrics.round ended with `model` (its tensors must not change in place afterwards).
  // Commits the round before (waiting for its evaluation), then evaluates this one in the
  // background when `evaluate`, else commits it at once (test accuracy null). `aggregator_state`:
  // the rule's state after this round, needed when checkpoint_due(round). An empty `model` (a
  // decentralised round whose models stayed on the clients) is neither evaluated nor checkpointed.
  Status submit(RoundMetrics metrics, ModelState model, ModelState aggregator_state, bool evaluate);
  // Commits the pending round, if any (at the end of the run, or before a failed round is
  // recorded so that the round before keeps its record).
  Status flush();

  // Records a round that failed (no model, no evaluation, no checkpoint), after the pending
  // round, which keeps its record.
  Status record_failed(const RoundMetrics& metrics);

  // Writes checkpoints/round_NNNN.ckpt and prunes old ones (round 0's is written at start).
  Status write_checkpoint(int round, const ModelState& model, ModelState aggregator_state);

  double last_accuracy() const { return last_accuracy_; }
  // The first committed round whose central test accuracy reached `target`, or 0 (--target-accuracy).
  int first_round_reaching(double target) const;
  // The last round recorded (0 before any): below the run's rounds when it stopped early (--dp's
  // target epsilon).
  int last_round() const { return last_round_; }

 private:
  struct Pending {
    RoundMetrics metrics;
    ModelState model;
    ModelState aggregator_state;
    bool evaluated = false;
  };

  RoundCommitterOptions options_;
  RunRecorder& recorder_;
  BackgroundEvaluator& evaluator_;
  std::optional<Pending> pending_;
  double last_accuracy_ = 0.0;
  int last_round_ = 0;
  std::map<int, double> accuracy_by_round_;  // central test accuracy of the evaluated rounds
};

}  // namespace flotilla
