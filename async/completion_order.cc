#include "async/completion_order.h"

#include <algorithm>
#include <string>

namespace flotilla {

Status ArrivalOrder::start(int64_t task_id, int client_id, int64_t local_steps) {
  (void)client_id;
  if (local_steps < 0) return invalid_argument_error("task " + std::to_string(task_id) + ": negative local steps");
  if (!started_.insert(task_id).second)
    return already_exists_error("task " + std::to_string(task_id) + " is already in flight");
  return Status();
}

Status ArrivalOrder::report(int64_t task_id) {
  if (!started_.count(task_id)) return not_found_error("task " + std::to_string(task_id) + " is not in flight");
  if (std::find(arrived_.begin(), arrived_.end(), task_id) != arrived_.end())
    return already_exists_error("task " + std::to_string(task_id) + " was already reported");
  arrived_.push_back(task_id);
  return Status();
}

std::optional<int64_t> ArrivalOrder::next_ready() const {
  if (arrived_.empty()) return std::nullopt;
  return arrived_.front();
}

Status ArrivalOrder::complete(int64_t task_id) {
  if (arrived_.empty() || arrived_.front() != task_id)
    return failed_precondition_error("task " + std::to_string(task_id) + " is not the next one to apply");
  arrived_.pop_front();
  started_.erase(task_id);
  return Status();
}

Status ArrivalOrder::cancel(int64_t task_id) {
  if (!started_.erase(task_id)) return not_found_error("task " + std::to_string(task_id) + " is not in flight");
  arrived_.erase(std::remove(arrived_.begin(), arrived_.end(), task_id), arrived_.end());
  return Status();
}

}  // namespace flotilla
