// CompletionOrder: which finished task the coordinator applies next. Asynchronous rules are not
// order-independent (each application changes the model the next one is measured against), so the
// order decides the run. Two policies:
//
//  - ArrivalOrder (clock = real): apply in the order results arrive. Cheapest and what a deployment
//    does, but the sequence of applications (hence the model) depends on network and machine timing
//    and differs from run to run.
//  - VirtualClock (clock = virtual, async/virtual_clock.h): each task gets a simulated duration and
//    the one with the earliest simulated finish is applied first, waiting for its result even if
//    others are already in. Same seed and config => same sequence of applications on every run,
//    whatever the real arrival order.
//
// Event-loop contract (one thread; not thread-safe):
//   start(task, client, steps)   when the task is sent (ids from AsyncServer::dispatch)
//   report(task)                 when its result is in (kept by the caller until applied)
//   while (auto t = next_ready()) { apply t's result; complete(*t); start replacements }
//   cancel(task)                 for a task that will never answer (client lost, timeout)
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>

#include "core/status.h"

namespace flotilla {

class CompletionOrder {
 public:
  virtual ~CompletionOrder() = default;
  // The task was dispatched to `client_id` for `local_steps` local batches. AlreadyExists for a
  // task id already in flight; InvalidArgument for local_steps < 0.
  virtual Status start(int64_t task_id, int client_id, int64_t local_steps) = 0;
  // Its result arrived. NotFound for a task not in flight; AlreadyExists when reported twice.
  virtual Status report(int64_t task_id) = 0;
  // The task to apply now, or nullopt when the next one in order has not reported yet (or none is
  // in flight).
  virtual std::optional<int64_t> next_ready() const = 0;
  // The task returned by next_ready() was applied (or rejected): it leaves the flight.
  // FailedPrecondition for any other task.
  virtual Status complete(int64_t task_id) = 0;
  // The task will never report; it leaves the flight without being applied. NotFound if unknown.
  virtual Status cancel(int64_t task_id) = 0;
  virtual int in_flight() const = 0;
};

// Applies in arrival order (first reported, first applied).
class ArrivalOrder final : public CompletionOrder {
 public:
  Status start(int64_t task_id, int client_id, int64_t local_steps) override;
  Status report(int64_t task_id) override;
  std::optional<int64_t> next_ready() const override;
  Status complete(int64_t task_id) override;
  Status cancel(int64_t task_id) override;
  int in_flight() const override { return static_cast<int>(started_.size()); }

 private:
  std::set<int64_t> started_;    // in flight, reported or not
  std::deque<int64_t> arrived_;  // reported, in arrival order
};

}  // namespace flotilla
