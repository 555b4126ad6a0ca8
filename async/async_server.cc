#include "async/async_server.h"

#include <ATen/ATen.h>

#include <string>

namespace flotilla {
namespace {

constexpr const char* kGlobalPrefix = "global/";
constexpr const char* kVersionName = "async/version";
constexpr const char* kNextTaskName = "async/next_task_id";

std::string describe(int client_id, int64_t task_id) {
  return "client " + std::to_string(client_id) + " (task " + std::to_string(task_id) + ")";
}

}  // namespace

AsyncServer::AsyncServer(std::unique_ptr<AsyncRule> rule, ModelState initial, AsyncServerOptions options)
    : rule_(std::move(rule)), options_(options), versions_(0, std::move(initial)) {
  FLOTILLA_CHECK(rule_ != nullptr) << "AsyncServer without a rule";
}

TaskTicket AsyncServer::dispatch(int client_id) { return tracker_.dispatch(client_id, versions_.acquire_current()); }

StatusOr<AsyncUpdateRecord> AsyncServer::apply(const AsyncUpdate& update) {
  const std::string who = describe(update.client_id, update.task_id);
  auto ticket = tracker_.find(update.task_id);
  if (!ticket.ok()) return ticket.status().with_context(who);
  if (ticket->client_id != update.client_id)
    return permission_denied_error(who + ": the task was given to client " + std::to_string(ticket->client_id));
  AsyncUpdateRecord record;
  const Status accepted = accept(*ticket, update, record);
  end_task(*ticket);
  if (!accepted.ok()) return accepted.with_context(who);
  return record;
}

Status AsyncServer::accept(const TaskTicket& ticket, const AsyncUpdate& update, AsyncUpdateRecord& record) {
  if (update.base_version != ticket.base_version)
    return invalid_argument_error("claims base version " + std::to_string(update.base_version) +
                                  ", but the task was dispatched with version " + std::to_string(ticket.base_version));
  if (update.num_samples <= 0)
    return invalid_argument_error("num_samples must be > 0 (got " + std::to_string(update.num_samples) + ")");
  ASSIGN_OR_RETURN(const ModelState base, versions_.get(ticket.base_version));
  const ModelState& global = versions_.current();
  RETURN_IF_ERROR(global.check_same_layout(update.state));
  RETURN_IF_ERROR(update.state.check_finite());

  const int64_t tau = StalenessTracker::staleness(ticket, versions_.current_version());
  ModelState trained = update.state;
  if (tau > 0) {
    trained = compensate_delay(base, global, update.state, options_.dc);
    RETURN_IF_ERROR(trained.check_finite().with_context("after delay compensation"));
  }
  AsyncContribution c;
  c.client_id = ticket.client_id;
  c.num_samples = update.num_samples;
  c.staleness = tau;
  c.staleness_weight = options_.staleness.weight(tau);
  c.global = &global;
  c.base = &base;
  c.trained = &trained;
  ASSIGN_OR_RETURN(Absorbed absorbed, rule_->absorb(c));

  record.task_id = ticket.task_id;
  record.client_id = ticket.client_id;
  record.num_samples = update.num_samples;
  record.base_version = ticket.base_version;
  record.arrival_version = versions_.current_version();
  record.staleness = tau;
  record.staleness_weight = c.staleness_weight;
  record.weight = absorbed.weight;
  record.model_changed = absorbed.model.has_value();
  if (absorbed.model) versions_.advance(versions_.current_version() + 1, std::move(*absorbed.model));
  record.version_after = versions_.current_version();
  return Status();
}

void AsyncServer::end_task(const TaskTicket& ticket) {
  // Both hold by construction: the ticket was found in flight, and it holds its version.
  FLOTILLA_CHECK(tracker_.finish(ticket.task_id).ok()) << "task " << ticket.task_id;
  FLOTILLA_CHECK(versions_.release(ticket.base_version).ok()) << "version " << ticket.base_version;
}

Status AsyncServer::abandon(int64_t task_id) {
  ASSIGN_OR_RETURN(const TaskTicket ticket, tracker_.find(task_id));
  end_task(ticket);
  return Status();
}

StatusOr<ModelState> AsyncServer::save_state() const {
  if (rule_->buffered() > 0)
    return failed_precondition_error("cannot checkpoint with " + std::to_string(rule_->buffered()) +
                                     " buffered update(s); save right after the model changed");
  ModelState state;
  for (const auto& e : global().entries()) state.add(kGlobalPrefix + e.name, e.tensor.clone());
  state.add(kVersionName, at::scalar_tensor(version(), at::kLong));
  state.add(kNextTaskName, at::scalar_tensor(tracker_.next_task_id(), at::kLong));
  return state;
}

Status AsyncServer::restore_state(const ModelState& state) {
  if (in_flight() > 0 || rule_->buffered() > 0)
    return failed_precondition_error("restore_state on a server that has tasks in flight or buffered updates");
  ModelState model;
  int64_t version = -1, next_task = -1;
  for (const auto& e : state.entries()) {
    const bool scalar = e.tensor.dim() == 0 && e.tensor.scalar_type() == at::kLong;
    if (e.name.rfind(kGlobalPrefix, 0) == 0) {
      model.add(e.name.substr(std::string(kGlobalPrefix).size()), e.tensor.clone());
    } else if (e.name == kVersionName && scalar) {
      version = e.tensor.item<int64_t>();
    } else if (e.name == kNextTaskName && scalar) {
      next_task = e.tensor.item<int64_t>();
    } else {
      return invalid_argument_error("async server state: unexpected tensor '" + e.name + "'");
    }
  }
  if (version < 0 || next_task < 0)
    return invalid_argument_error("async server state: missing or negative " + std::string(kVersionName) + " / " +
                                  kNextTaskName);
  RETURN_IF_ERROR(global().check_same_layout(model).with_context("async server state"));
  RETURN_IF_ERROR(model.check_finite().with_context("async server state"));
  versions_ = VersionStore(version, std::move(model));
  tracker_ = StalenessTracker(next_task);
  return Status();
}

}  // namespace flotilla
