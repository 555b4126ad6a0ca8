// SecureRound: the coordinator's side of one round of secure aggregation (secagg/protocol.h) over
// the event loop. The round's tasks are stage 0: each client trains, then answers with its keys
// (msg::SecAggStep, stage 0) instead of its update. When every task has ended, start() relays the
// keys (stage 1), and each later stage begins when every client still expected has answered the
// one before, or when the stage's timeout has passed: who did not answer in time has dropped out,
// and the protocol recovers from it while at least the threshold of its neighbours remain.
//
// No I/O: the loop hands it what arrived and the clock, and it hands back what to send (through
// `Send`). A step of a stage that is over is refused: a late share would otherwise reach the
// sum without its recipient having masked with it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "coordinator/round_metrics.h"
#include "core/status.h"
#include "protocol/messages.h"
#include "secagg/protocol.h"
#include "secagg/update_vector.h"

namespace flotilla {

class SecureRound {
 public:
  using Clock = std::chrono::steady_clock;
  // Sends a step to step.client_id (its task id is the hub's to fill in).
  using Send = std::function<void(msg::SecAggStep)>;

  // `task`: what the round's tasks tell the clients (task.participants: the round's sampled
  // clients, ascending); `layout`: of the vectors they mask (params.length words).
  // `stage_timeout_s`: the most each of stages 1-3 waits for its answers.
  SecureRound(secagg::SecAggParams params, msg::SecureAggregationTask task, secagg::UpdateLayout layout,
              double stage_timeout_s);

  const msg::SecureAggregationTask& task() const { return task_; }
  const secagg::UpdateLayout& layout() const { return layout_; }

  // Stage 0: a participant's keys, its task's answer. InvalidArgument (the task ends in error)
  // for keys that are malformed, come twice or from a client not in the round.
  Status add_keys(const msg::SecAggStep& step);
  // Every task has ended: stage 1 begins for the clients that advertised keys.
  void start(Clock::time_point now, const Send& send);
  // A step of stages 1-3 from a client. An error (the step is dropped, the client counts as
  // dropped from then on) for a step of the wrong stage, from a client not expected, or malformed.
  Status on_step(const msg::SecAggStep& step, Clock::time_point now, const Send& send);
  // `id` will not answer (lost, or it reported an error): the stage may end now.
  void drop(int id, Clock::time_point now, const Send& send);
  // Ends the current stage if its timeout has passed.
  void tick(Clock::time_point now, const Send& send);

  bool finished() const { return stage_ > 3; }
  int stage() const { return stage_; }
  // Once finished: the sum of the survivors' vectors (mod 2^64), or FailedPrecondition saying how
  // many were left against the threshold.
  StatusOr<std::vector<uint64_t>> sum() const;

  // Who got how far, for the round's metrics.
  int advertised() const { return static_cast<int>(server_.advertised().size()); }
  int shared() const { return static_cast<int>(server_.shared().size()); }
  int masked() const { return static_cast<int>(server_.masked().size()); }
  int unmasked() const { return unmasked_; }
  int threshold() const { return params_.threshold; }
  // Per participant that dropped out after its keys: the stage it missed ("sharing keys",
  // "masking", "unmasking").
  const std::map<int, std::string>& dropouts() const { return dropouts_; }
  // The masked input of the first survivor, as received (for the audit in docs/privacy.md: what
  // the coordinator sees of one client); empty before stage 3.
  const std::vector<uint64_t>& first_masked_input() const { return first_masked_; }

 private:
  // Moves to the next stage and sends its messages.
  void advance(Clock::time_point now, const Send& send);
  void maybe_advance(Clock::time_point now, const Send& send);

  secagg::SecAggParams params_;
  msg::SecureAggregationTask task_;
  secagg::UpdateLayout layout_;
  secagg::SecAggServer server_;
  Clock::duration stage_timeout_;
  int stage_ = 0;  // 0 collecting keys, 1 shares, 2 masked inputs, 3 unmasking, 4 done
  Clock::time_point deadline_{};
  std::set<int> expected_;  // who the current stage still waits for
  std::map<int, std::string> dropouts_;
  std::vector<uint64_t> first_masked_;
  int unmasked_ = 0;
  bool advancing_ = false;  // advance() is sending a stage's messages
};

// Adds a finished secure round's numbers to the round's metrics.policy: the threshold, how many
// clients got through each stage, and the seconds stages 1-3 took.
void record_secure_round(const SecureRound& secure, double seconds, RoundMetrics& metrics);

}  // namespace flotilla
