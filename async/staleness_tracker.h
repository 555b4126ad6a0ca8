// StalenessTracker: the bookkeeping of dispatched tasks. A task is dispatched with the global
// version v it starts from; when its result arrives at version V its staleness is tau = V - v, the
// number of times the global model changed while the client trained. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>

#include "core/status.h"

namespace flotilla {

// What the coordinator sends with a task and gets back with its result.
struct TaskTicket {
  int64_t task_id = -1;      // unique within the run, increasing
  int client_id = -1;        // the client it was given to
  int64_t base_version = 0;  // the global version the client trains from
};

class StalenessTracker {
 public:
  // Task ids start at `first_task_id` (a resumed run continues the saved count, so that a late
  // answer to a task of the previous run cannot be taken for a new task).
  explicit StalenessTracker(int64_t first_task_id = 0) : next_id_(first_task_id) {}

  // A new task for `client_id` from `version`.
  TaskTicket dispatch(int client_id, int64_t version);
  // The ticket of an in-flight task; NotFound ("never dispatched, already answered or abandoned").
  StatusOr<TaskTicket> find(int64_t task_id) const;
  // The task is over; NotFound if it was not in flight.
  Status finish(int64_t task_id);

  // tau = current_version - base_version; >= 0 (checked: versions only grow).
  static int64_t staleness(const TaskTicket& ticket, int64_t current_version);

  int in_flight() const { return static_cast<int>(tasks_.size()); }
  // The next task id dispatch() hands out.
  int64_t next_task_id() const { return next_id_; }

 private:
  int64_t next_id_;
  std::map<int64_t, TaskTicket> tasks_;
};

}  // namespace flotilla
