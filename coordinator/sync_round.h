// SyncRound: the bookkeeping of one synchronous round, without any I/O. The coordinator's event
// loop tells it what happened (task sent, update accepted, client lost or failed, time passed)
// and asks it what to do (close the round, send replacements, fail). Keeping the policy here and
// the sockets in the loop is what lets the decisions be tested alone, and other training
// policies reuse the same loop.
//
// A round closes as soon as no task is outstanding and at least `min_fit` updates were accepted.
// When every task has ended but fewer than `min_fit` answered (clients died), the round asks for
// replacement clients among the live ones not yet tried, and otherwise waits for clients to
// (re)join, until the round timeout; then it fails, saying how many answers were missing.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "coordinator/round_metrics.h"

namespace flotilla {

class SyncRound {
 public:
  SyncRound(int round, int min_fit) : round_(round), min_fit_(min_fit) {}

  int round() const { return round_; }

  // A task went to `id` (`bytes` on the wire); it is outstanding until answered or ended.
  void task_sent(int id, int64_t bytes, std::vector<int64_t> label_histogram);
  // The task of `id` could not be sent, failed, or was lost; `status` is "lost: ...",
  // "error: ..." or "timeout". No-op unless the task is outstanding.
  void task_ended(int id, const std::string& status);
  bool is_outstanding(int id) const { return outstanding_.count(id) > 0; }
  bool was_tried(int id) const { return clients_.count(id) > 0; }

  // Records an accepted update (validated and handed to the round's aggregation by the caller).
  // Requires is_outstanding(id).
  void accept(int id, ClientRoundMetrics measured);

  int answered() const { return answered_; }
  int outstanding() const { return static_cast<int>(outstanding_.size()); }
  std::vector<int> outstanding_ids() const { return {outstanding_.begin(), outstanding_.end()}; }
  // Every task ended and enough answered: aggregate now.
  bool complete() const { return outstanding_.empty() && answered() >= min_fit_; }
  // Every task ended but too few answered: this many more answers are needed.
  int replacements_needed() const { return outstanding_.empty() ? std::max(0, min_fit_ - answered()) : 0; }

  // Bytes that went on the wire for the round's tasks (one message per process).
  void add_wire_bytes_sent(int64_t bytes) { wire_bytes_sent_ += bytes; }

  // At the round timeout: outstanding tasks end as "timeout".
  void time_out();

  // Sampled clients (replacements included) that did not answer.
  std::vector<int> failures() const;
  ClientRoundMetrics& metrics_of(int id) { return clients_[id]; }
  // Fills sampled, lost, answered, byte totals and the per-client rows (by id).
  void fill(RoundMetrics* metrics) const;
  // "2 of --min-fit 3 answers: 1 lost, 1 timed out, 0 errors"
  std::string shortfall() const;

 private:
  int round_;
  int min_fit_;
  std::vector<int> sampled_;                   // in the order tasks were sent
  std::map<int, ClientRoundMetrics> clients_;  // every client sent a task
  int answered_ = 0;
  int64_t wire_bytes_sent_ = 0;
  std::set<int> outstanding_;
};

}  // namespace flotilla
