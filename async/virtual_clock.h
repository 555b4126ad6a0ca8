// VirtualClock: simulated time that makes an asynchronous run a function of its seed (see
// async/completion_order.h for the contract the coordinator follows).
//
// A task started at virtual time `now()` (the finish time of the last completed task; 0 at first)
// lasts
//     slowdown(client) * local_steps * step_cost + delay.task_delay(seed, client, k, local_steps)
// virtual seconds, k being how many tasks this client was given before (its update index). The
// task to apply next is the in-flight one with the least finish time, ties broken by the smaller
// client id, then by the earlier start. The coordinator waits for that task's result even when
// others have arrived, so the sequence of applications is the same on every run regardless of real
// arrival order.
//
// Guarantees: with the same options, seed, and the same sequence of start/complete calls (which the
// coordinator makes deterministic by choosing clients with a seeded rule), next_ready() names the
// same tasks in the same order. Only failures break this: a cancel() depends on real timing, and
// the run then differs from the failure-free one from that point on. A slow real machine does not:
// it only makes the coordinator wait longer. Not thread-safe.
#pragma once

#include <map>
#include <tuple>
#include <unordered_map>

#include "async/completion_order.h"
#include "async/delay_model.h"

namespace flotilla {

struct VirtualClockOptions {
  double step_cost = 1.0;  // virtual seconds per local batch; finite, >= 0
  DelayModel delay;        // default: no delay
  uint64_t seed = 0;       // the run's seed; delays are drawn from it
};

class VirtualClock final : public CompletionOrder {
 public:
  // InvalidArgument naming step_cost when it is negative or not finite.
  static StatusOr<VirtualClock> create(VirtualClockOptions options);

  Status start(int64_t task_id, int client_id, int64_t local_steps) override;
  Status report(int64_t task_id) override;
  std::optional<int64_t> next_ready() const override;
  Status complete(int64_t task_id) override;
  Status cancel(int64_t task_id) override;
  int in_flight() const override { return static_cast<int>(tasks_.size()); }

  // The task due next in virtual time, reported or not (nullopt when none is in flight).
  std::optional<int64_t> next_due() const;
  // Virtual time: the finish time of the last completed task.
  double now() const { return now_; }
  // The virtual finish time of an in-flight task; NotFound otherwise.
  StatusOr<double> finish_time(int64_t task_id) const;

 private:
  explicit VirtualClock(VirtualClockOptions options) : options_(std::move(options)) {}

  // Completion order: finish time, client id, start sequence.
  using Key = std::tuple<double, int, int64_t>;
  struct Task {
    Key key;
    bool reported = false;
  };

  VirtualClockOptions options_;
  double now_ = 0.0;
  int64_t started_ = 0;                     // start sequence counter
  std::unordered_map<int, int64_t> given_;  // tasks given per client: the next update index
  std::unordered_map<int64_t, Task> tasks_;
  std::map<Key, int64_t> order_;  // in flight, by completion order
};

}  // namespace flotilla
