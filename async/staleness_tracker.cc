#include "async/staleness_tracker.h"

#include <string>

namespace flotilla {

TaskTicket StalenessTracker::dispatch(int client_id, int64_t version) {
  const TaskTicket ticket{next_id_++, client_id, version};
  tasks_[ticket.task_id] = ticket;
  return ticket;
}

StatusOr<TaskTicket> StalenessTracker::find(int64_t task_id) const {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end())
    return not_found_error("task " + std::to_string(task_id) +
                           " is not in flight (never dispatched, already answered, or abandoned)");
  return it->second;
}

Status StalenessTracker::finish(int64_t task_id) {
  if (!tasks_.erase(task_id)) return not_found_error("task " + std::to_string(task_id) + " is not in flight");
  return Status();
}

int64_t StalenessTracker::staleness(const TaskTicket& ticket, int64_t current_version) {
  FLOTILLA_CHECK(current_version >= ticket.base_version)
      << "task " << ticket.task_id << " from version " << ticket.base_version << " after version " << current_version;
  return current_version - ticket.base_version;
}

}  // namespace flotilla
