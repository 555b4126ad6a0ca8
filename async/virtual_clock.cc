#include "async/virtual_clock.h"

#include <cmath>
#include <string>

namespace flotilla {

StatusOr<VirtualClock> VirtualClock::create(VirtualClockOptions options) {
  if (!std::isfinite(options.step_cost) || options.step_cost < 0)
    return invalid_argument_error("virtual clock: step_cost must be finite and >= 0 (got " +
                                  std::to_string(options.step_cost) + ")");
  return VirtualClock(std::move(options));
}

Status VirtualClock::start(int64_t task_id, int client_id, int64_t local_steps) {
  if (local_steps < 0) return invalid_argument_error("task " + std::to_string(task_id) + ": negative local steps");
  if (tasks_.count(task_id)) return already_exists_error("task " + std::to_string(task_id) + " is already in flight");
  const int64_t update_index = given_[client_id]++;
  const double duration = options_.delay.slowdown(client_id) * static_cast<double>(local_steps) * options_.step_cost +
                          options_.delay.task_delay(options_.seed, client_id, update_index, local_steps);
  const Key key{now_ + duration, client_id, started_++};
  tasks_[task_id] = Task{key, false};
  order_[key] = task_id;
  return Status();
}

Status VirtualClock::report(int64_t task_id) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return not_found_error("task " + std::to_string(task_id) + " is not in flight");
  if (it->second.reported) return already_exists_error("task " + std::to_string(task_id) + " was already reported");
  it->second.reported = true;
  return Status();
}

std::optional<int64_t> VirtualClock::next_due() const {
  if (order_.empty()) return std::nullopt;
  return order_.begin()->second;
}

std::optional<int64_t> VirtualClock::next_ready() const {
  const auto due = next_due();
  if (!due || !tasks_.at(*due).reported) return std::nullopt;
  return due;
}

Status VirtualClock::complete(int64_t task_id) {
  if (next_ready() != task_id)
    return failed_precondition_error("task " + std::to_string(task_id) + " is not the next one to apply");
  const Key key = tasks_.at(task_id).key;
  now_ = std::get<0>(key);
  order_.erase(key);
  tasks_.erase(task_id);
  return Status();
}

Status VirtualClock::cancel(int64_t task_id) {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return not_found_error("task " + std::to_string(task_id) + " is not in flight");
  order_.erase(it->second.key);
  tasks_.erase(it);
  return Status();
}

StatusOr<double> VirtualClock::finish_time(int64_t task_id) const {
  auto it = tasks_.find(task_id);
  if (it == tasks_.end()) return not_found_error("task " + std::to_string(task_id) + " is not in flight");
  return std::get<0>(it->second.key);
}

}  // namespace flotilla
