#include "coordinator/client_hub.h"

#include <cstdio>
#include <random>

#include "core/log.h"
#include "protocol/codec.h"

namespace flotilla {
namespace {

// Messages handled back to back before liveness is checked again; all queued ones are read
// before any peer is declared silent, so a coordinator that was busy (evaluating a large model)
// does not mistake its own backlog for dead clients.
constexpr int kMaxDrain = 10000;

ClientHub::Clock::duration seconds_duration(double s) {
  return std::chrono::duration_cast<ClientHub::Clock::duration>(std::chrono::duration<double>(s));
}

// Task ids keep the top bit set, so each takes the same ten varint bytes on the wire whatever
// the draw: the byte counts of a run do not depend on it.
constexpr uint64_t kTaskIdTopBit = uint64_t{1} << 63;

uint64_t random_task_id_start() {
  std::random_device device;
  const uint64_t high = device(), low = device();
  return ((high << 32) ^ low) | kTaskIdTopBit;
}

}  // namespace

ClientHub::ClientHub(std::unique_ptr<ServerChannel> channel, ClientHubOptions options)
    : channel_(std::move(channel)),
      options_(std::move(options)),
      heartbeat_interval_(seconds_duration(options_.heartbeat_interval_s)),
      peer_timeout_(seconds_duration(options_.peer_timeout_s)),
      next_task_id_(random_task_id_start()),
      uploads_(options_.upload_memory_bytes, seconds_duration(options_.upload_grant_timeout_s)) {}

void ClientHub::send_heartbeats_if_due(HubListener* listener) {
  const auto now = Clock::now();
  if (now - last_heartbeat_ < heartbeat_interval_) return;
  last_heartbeat_ = now;
  const Frames beat = encode(msg::Heartbeat{});
  for (const auto& peer : registry_.live_peers())
    if (Status sent = channel_->send(peer, beat); !sent.ok()) peer_lost(peer, "connection closed", listener);
}

Status ClientHub::pump(HubListener* listener, std::chrono::milliseconds wait) {
  send_heartbeats_if_due(listener);
  ASSIGN_OR_RETURN(auto in, channel_->receive(wait));
  for (int n = 0; in && n < kMaxDrain; ++n) {
    handle(*in, listener);
    // Folding a queue of large updates can take longer than the clients' peer timeout: they must
    // keep hearing from the coordinator meanwhile, or they would think it gone and register again.
    send_heartbeats_if_due(listener);
    ASSIGN_OR_RETURN(in, channel_->receive(std::chrono::milliseconds(0)));
  }
  for (const auto& peer : registry_.silent_peers(Clock::now(), peer_timeout_)) {
    char why[64];
    std::snprintf(why, sizeof why, "silent for more than %.0f s", options_.peer_timeout_s);
    peer_lost(peer, why, listener);
  }
  const int64_t expired = uploads_.expired();
  grant_uploads(listener);  // grants that timed out make room
  if (uploads_.expired() > expired)
    FLOTILLA_LOG(Warning) << uploads_.expired() - expired
                          << " granted upload(s) did not arrive within the grant timeout; their room goes to others";
  return Status();
}

void ClientHub::peer_lost(const std::string& peer, const std::string& why, HubListener* listener) {
  uploads_.forget_peer(peer);
  conduct_.forget(peer);
  const auto* p = registry_.find_peer(peer);
  if (!p) return;
  const std::string who = p->capabilities.hostname + " pid " + std::to_string(p->capabilities.pid);
  const std::vector<int> ids = registry_.mark_lost(peer);
  FLOTILLA_LOG(Warning) << "lost client process " << who << " (" << ids.size() << " client(s)): " << why;
  if (options_.observer && !ids.empty()) options_.observer->on_clients_lost(ids, why);
  if (listener && !ids.empty()) listener->on_clients_lost(ids, why);
  grant_uploads(listener);
}

// Bad messages are logged (throttled) and dropped: a peer can never crash the coordinator or
// fail a round by itself.
void ClientHub::handle(const Incoming& in, HubListener* listener) {
  const auto now = Clock::now();
  const bool registered = registry_.heard_from(in.peer, now);
  if (registered && options_.observer) options_.observer->on_heard_from(registry_.find_peer(in.peer)->client_ids);
  if (registered && !within_conduct_budget(in.peer, now, listener)) return;
  // Whatever a registered peer sends that is dropped below spends its conduct budget.
  const auto misbehaved = [&] {
    if (registered) conduct_.charge(in.peer, now);
  };
  if (!in.refused.ok()) {
    misbehaved();
    if (int64_t quiet = 0; refusal_log_.allow(&quiet))
      FLOTILLA_LOG(Warning) << "dropped a message from " << peer_name(in.peer) << ": " << in.refused.message()
                            << (quiet ? " (" + std::to_string(quiet) + " similar lines suppressed)" : "");
    return;
  }
  if (!registered && !admission_.admit_unknown(in.peer)) {
    if (int64_t quiet = 0; budget_log_.allow(&quiet))
      FLOTILLA_LOG(Warning) << "dropping messages from unregistered " << peer_name(in.peer) << ": its budget is spent ("
                            << admission_.dropped() << " dropped in all"
                            << (quiet ? ", " + std::to_string(quiet) + " similar lines suppressed" : "") << ")";
    return;
  }
  auto decoded = decode(in.frames);
  if (!decoded.ok()) {
    misbehaved();
    if (int64_t quiet = 0; refusal_log_.allow(&quiet))
      FLOTILLA_LOG(Warning) << "dropping malformed message from " << peer_name(in.peer) << ": " << decoded.status()
                            << (quiet ? " (" + std::to_string(quiet) + " similar lines suppressed)" : "");
    send_error(in.peer, decoded.status(), -1, 0);
    return;
  }
  if (auto* reg = std::get_if<msg::Register>(&*decoded)) return on_register(in, *reg, listener);
  if (!registered) {
    // Typically a client whose coordinator restarted, or that was declared lost while it was
    // only cut off: it registers again on this error.
    send_error(in.peer, not_found_error("not registered with this coordinator; register again"), -1, 0);
    return;
  }
  if (auto* offer = std::get_if<msg::UploadOffer>(&*decoded)) return on_upload_offer(in.peer, *offer, listener);
  if (auto* update = std::get_if<msg::ClientUpdate>(&*decoded)) {
    // Its bytes leave the upload budget now, so the next upload travels while this one is folded.
    uploads_.done(in.peer, update->client_id);
    grant_uploads(listener);
    const auto* owner = registry_.live_peer_of(update->client_id);
    if (!listener || !owner || owner->peer != in.peer) {
      misbehaved();
      FLOTILLA_LOG(Info) << "dropping unexpected update from client " << update->client_id << " for round "
                         << update->round;
      return;
    }
    if (!answers_last_task(update->client_id, update->task_id)) {
      misbehaved();
      FLOTILLA_LOG(Info) << "dropping update of client " << update->client_id << " for round " << update->round
                         << ": it answers task " << update->task_id
                         << ", not the last task this coordinator sent it (one of a coordinator before a restart?)";
      return;
    }
    if (options_.observer) options_.observer->on_update_received(update->client_id, in.wire_bytes);
    return listener->on_update(std::move(*update), in.wire_bytes);
  }
  if (auto* step = std::get_if<msg::SecAggStep>(&*decoded)) {
    if (!listener || !awaits_answer(in.peer, step->client_id, step->task_id)) {
      misbehaved();
      FLOTILLA_LOG(Info) << "dropping secure aggregation step of client " << step->client_id << " for round "
                         << step->round << ": not from its live process, or not of the last task sent to it";
      return;
    }
    if (step->stage == 0 && options_.observer) options_.observer->on_update_received(step->client_id, in.wire_bytes);
    return listener->on_secagg_step(std::move(*step), in.wire_bytes);
  }
  if (auto* error = std::get_if<msg::Error>(&*decoded)) {
    FLOTILLA_LOG(Warning) << "client " << error->client_id << " reports an error in round " << error->round << ": "
                          << error->message;
    uploads_.done(in.peer, error->client_id);  // a granted answer it no longer holds, or none
    grant_uploads(listener);
    const auto* owner = registry_.live_peer_of(error->client_id);
    if (auto evaluation = evaluation_of_client_.find(error->client_id);
        error->task_id != 0 && evaluation != evaluation_of_client_.end() && evaluation->second == error->task_id) {
      if (listener && owner && owner->peer == in.peer) listener->on_evaluate_error(*error);
      if (options_.observer && owner && owner->peer == in.peer)
        options_.observer->on_client_error(error->client_id, error->message);
      return;
    }
    const bool current = error->task_id == 0 || answers_last_task(error->client_id, error->task_id);
    if (listener && owner && owner->peer == in.peer && current) listener->on_client_error(*error);
    if (options_.observer && owner && owner->peer == in.peer && current)
      options_.observer->on_client_error(error->client_id, error->message);
    return;
  }
  if (auto* result = std::get_if<msg::EvaluateResult>(&*decoded)) {
    const auto* owner = registry_.live_peer_of(result->client_id);
    auto evaluation = evaluation_of_client_.find(result->client_id);
    if (!listener || !owner || owner->peer != in.peer || evaluation == evaluation_of_client_.end() ||
        evaluation->second != result->task_id) {
      misbehaved();
      FLOTILLA_LOG(Info) << "dropping evaluation result of client " << result->client_id << " for round "
                         << result->round << ": not an answer this coordinator waits for";
      return;
    }
    if (options_.observer) options_.observer->on_evaluation_received(result->client_id);
    return listener->on_evaluate_result(*result, in.wire_bytes);
  }
  if (std::holds_alternative<msg::Heartbeat>(*decoded)) return;
  misbehaved();
  FLOTILLA_LOG(Warning) << "ignoring unexpected " << message_name(*decoded) << " from " << peer_name(in.peer);
}

bool ClientHub::within_conduct_budget(const std::string& peer, Clock::time_point now, HubListener* listener) {
  switch (conduct_.on_message(peer, now)) {
    case ConductBudget::Verdict::kRead:
      return true;
    case ConductBudget::Verdict::kThrottled:
      if (int64_t quiet = 0; budget_log_.allow(&quiet))
        FLOTILLA_LOG(Warning)
            << "throttling " << peer_name(peer)
            << ": its budget of malformed or unexpected messages is spent; dropping its messages unread ("
            << conduct_.dropped() << " dropped in all"
            << (quiet ? ", " + std::to_string(quiet) + " similar lines suppressed" : "") << ")";
      return false;
    case ConductBudget::Verdict::kDisconnect: {
      const std::string why = "disconnected: it kept sending while throttled for malformed or unexpected messages";
      send_error(peer, permission_denied_error(why), -1, 0);
      peer_lost(peer, why, listener);
      return false;
    }
  }
  return false;
}

bool ClientHub::awaits_answer(const std::string& peer, int client_id, uint64_t task_id) const {
  const auto* owner = registry_.live_peer_of(client_id);
  return owner && owner->peer == peer && answers_last_task(client_id, task_id);
}

void ClientHub::decline_upload(const std::string& peer, uint64_t task_id, int client_id) {
  (void)channel_->send(peer, encode(msg::UploadGrant{task_id, client_id, false}));
}

void ClientHub::on_upload_offer(const std::string& peer, const msg::UploadOffer& offer, HubListener* listener) {
  if (!listener || !awaits_answer(peer, offer.client_id, offer.task_id)) {
    FLOTILLA_LOG(Debug) << "declining the upload of client " << offer.client_id << " for task " << offer.task_id
                        << ": not an answer this coordinator waits for";
    return decline_upload(peer, offer.task_id, offer.client_id);
  }
  uploads_.offer({peer, offer.task_id, offer.client_id, offer.bytes});
  if (options_.observer) options_.observer->on_upload_offered(offer.client_id);
  grant_uploads(listener);
}

void ClientHub::grant_uploads(HubListener* listener) {
  const auto declined = uploads_.drop_queued_if(
      [&](const UploadGate::Offer& o) { return !awaits_answer(o.peer, o.client_id, o.task_id); });
  for (const auto& o : declined) decline_upload(o.peer, o.task_id, o.client_id);
  std::map<std::string, std::string> unreachable;  // peer -> why
  for (const auto& o : uploads_.grantable()) {
    if (Status sent = channel_->send(o.peer, encode(msg::UploadGrant{o.task_id, o.client_id, true})); !sent.ok())
      unreachable.emplace(o.peer, "connection closed (" + sent.message() + ")");
    else if (options_.observer)
      options_.observer->on_upload_granted(o.client_id);
  }
  if (options_.observer) options_.observer->on_upload_memory(uploads_.in_flight_bytes());
  // Each frees its grants and grants the next offers.
  for (const auto& [peer, why] : unreachable) peer_lost(peer, why, listener);
}

int64_t ClientHub::send_secagg(msg::SecAggStep step, HubListener* listener) {
  const auto* owner = registry_.live_peer_of(step.client_id);
  auto task = task_of_client_.find(step.client_id);
  if (!owner || task == task_of_client_.end()) return 0;
  step.task_id = task->second;
  const Frames frames = encode(step);
  const std::string peer = owner->peer;
  if (Status sent = channel_->send(peer, frames); !sent.ok()) {
    peer_lost(peer, "send failed: " + sent.message(), listener);
    return 0;
  }
  return channel_->wire_bytes(frames);
}

bool ClientHub::answers_last_task(int client_id, uint64_t task_id) const {
  auto sent = task_of_client_.find(client_id);
  return sent != task_of_client_.end() && sent->second == task_id;
}

std::string ClientHub::peer_name(const std::string& peer) const {
  std::string hex;
  char buf[3];
  for (unsigned char c : peer) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    hex += buf;
  }
  return "peer " + hex;
}

void ClientHub::send_error(const std::string& peer, const Status& status, int client_id, int round) {
  Status sent =
      channel_->send(peer, encode(msg::Error{static_cast<int>(status.code()), status.message(), client_id, round, 0}));
  if (!sent.ok()) FLOTILLA_LOG(Debug) << "could not tell " << peer_name(peer) << " about the error: " << sent;
}

void ClientHub::refuse_registration(const Incoming& in, const msg::Register& reg, const Status& why) {
  if (int64_t quiet = 0; refusal_log_.allow(&quiet))
    FLOTILLA_LOG(Warning) << "refusing registration from " << reg.capabilities.hostname << " pid "
                          << reg.capabilities.pid << ": " << why.message()
                          << (quiet ? " (" + std::to_string(quiet) + " similar lines suppressed)" : "");
  send_error(in.peer, why, reg.client_ids.empty() ? -1 : reg.client_ids.front(), 0);
}

// A TorchScript model is code: a client runs the run's archive only with its own copy, a pin of
// its digest or a declared trust in what the coordinator ships. Refused here, before round 1,
// rather than by a client that dies on its welcome after the round has counted on it.
Status ClientHub::check_model_consent(const msg::Register& reg) const {
  const std::string& run = options_.model_sha256;
  const std::string who = "client " + std::to_string(reg.client_ids.front());
  if (run.empty()) {
    if (reg.model_sha256.empty() && reg.accepted_model_sha256.empty()) return Status();
    return failed_precondition_error(who +
                                     " was given a TorchScript archive (--model or --model-sha256), and the "
                                     "run's model is '" +
                                     options_.experiment.model + "'");
  }
  if (!reg.model_sha256.empty() && reg.model_sha256 != run)
    return failed_precondition_error(who + "'s TorchScript archive (--model) has SHA-256 " + reg.model_sha256 +
                                     ", the run's has " + run + ": the two sides would train different models");
  if (!reg.accepted_model_sha256.empty() && reg.accepted_model_sha256 != run)
    return permission_denied_error("the run's model is TorchScript archive " + run + ", and " + who + " is pinned to " +
                                   reg.accepted_model_sha256 + " (--model-sha256): refusing to run another archive");
  if (reg.model_sha256.empty() && reg.accepted_model_sha256.empty() && !reg.trusts_shipped_model)
    return permission_denied_error(
        "the coordinator ships TorchScript archive " + run + " (" +
        std::to_string(options_.model_archive ? options_.model_archive->size() : 0) + " bytes), which is code " + who +
        " would run. Accept it with --model-sha256 " + run +
        " (pins this archive) or --trust-coordinator-model, or give the client its own copy with --model "
        "torchscript:PATH");
  return Status();
}

void ClientHub::on_register(const Incoming& in, const msg::Register& reg, HubListener* listener) {
  const int n = options_.num_clients;
  if (reg.client_ids.empty())
    return refuse_registration(in, reg, invalid_argument_error("registration lists no client ids"));
  std::set<int> distinct;
  for (int id : reg.client_ids) {
    if (id < 0 || id >= n)
      return refuse_registration(in, reg,
                                 invalid_argument_error("client id " + std::to_string(id) + " is out of range [0, " +
                                                        std::to_string(n) + ")"));
    if (!distinct.insert(id).second)
      return refuse_registration(in, reg,
                                 invalid_argument_error("client id " + std::to_string(id) + " is listed twice"));
  }
  if (options_.allowlist) {
    if (Status allowed = options_.allowlist->check_ids(in.user_id, reg.client_ids); !allowed.ok())
      return refuse_registration(in, reg, allowed);
  }
  if (Status runs = check_model_consent(reg); !runs.ok()) return refuse_registration(in, reg, runs);
  if (options_.check_registration) {
    if (Status fits = options_.check_registration(reg); !fits.ok()) return refuse_registration(in, reg, fits);
  }
  const bool rejoin = registry_.size() > 0 && [&] {
    for (int id : reg.client_ids)
      if (client_seen_.count(id)) return true;
    return false;
  }();
  if (Status bound =
          registry_.register_peer(in.peer, in.user_id, reg.instance_id, reg.capabilities, reg.client_ids, Clock::now());
      !bound.ok())
    return refuse_registration(in, reg, bound);
  admission_.forget(in.peer);
  uploads_.forget_peer(in.peer);  // it offers again what it still holds
  client_seen_.insert(reg.client_ids.begin(), reg.client_ids.end());
  FLOTILLA_LOG(Info) << (rejoin ? "re-registered " : "registered ") << reg.client_ids.size() << " client(s) from "
                     << reg.capabilities.hostname << " pid " << reg.capabilities.pid << " (" << reg.capabilities.device
                     << "); " << registry_.live_size() << "/" << n << " reachable";
  msg::Welcome welcome{reg.client_ids, options_.experiment, {}};
  if (options_.model_archive && reg.model_sha256 != options_.model_sha256)
    welcome.model_archive = *options_.model_archive;
  Status sent = channel_->send(in.peer, encode(welcome));
  if (!sent.ok()) FLOTILLA_LOG(Warning) << "welcome not delivered: " << sent;
  if (options_.observer)
    options_.observer->on_clients_registered(reg.client_ids, reg.capabilities.hostname + " pid " +
                                                                 std::to_string(reg.capabilities.pid) + " (" +
                                                                 reg.capabilities.device + ")");
  if (listener) listener->on_clients_registered(reg.client_ids);
}

ClientHub::Dispatch ClientHub::prepare(const msg::RoundTask& task, const std::vector<int>& ids) const {
  Dispatch dispatch;
  msg::RoundTask one = task;  // shared tensors: encoding copies no tensor data
  std::map<std::string, size_t> message_of_peer;
  for (int id : ids) {
    const auto* peer = registry_.live_peer_of(id);
    if (!peer) {
      dispatch.unreachable.push_back(id);
      continue;
    }
    one.client_ids = {id};
    one.task_id = kTaskIdTopBit;  // as long on the wire as the id send() gives it
    dispatch.task_bytes[id] = channel_->wire_bytes(encode(one));
    auto [it, added] = message_of_peer.emplace(peer->peer, dispatch.messages.size());
    if (added) {
      dispatch.messages.emplace_back(peer->peer, task);
      dispatch.messages.back().second.client_ids.clear();
    }
    dispatch.messages[it->second].second.client_ids.push_back(id);
  }
  if (options_.observer) options_.observer->on_tasks_prepared(task.round, ids);
  return dispatch;
}

int64_t ClientHub::send(const Dispatch& dispatch, HubListener* listener) {
  int64_t wire = 0;
  for (const auto& [peer, prepared] : dispatch.messages) {
    msg::RoundTask task = prepared;  // shared tensors: no tensor data is copied
    task.task_id = next_task_id_++;
    for (int id : task.client_ids) task_of_client_[id] = task.task_id;
    if (options_.observer) options_.observer->on_tasks_sent(task.round, task.client_ids);
    const Frames frames = encode(task);
    wire += channel_->wire_bytes(frames);
    if (Status sent = channel_->send(peer, frames); !sent.ok())
      peer_lost(peer, "connection closed (" + sent.message() + ")", listener);
  }
  grant_uploads(listener);  // offers answering the previous tasks are declined
  return wire;
}

std::vector<int> ClientHub::send_evaluation(const msg::EvaluateTask& task, const std::vector<int>& ids,
                                            HubListener* listener, int64_t* wire_bytes) {
  std::vector<int> unreachable;
  std::map<std::string, std::vector<int>> ids_of_peer;
  for (int id : ids) {
    const auto* peer = registry_.live_peer_of(id);
    if (peer)
      ids_of_peer[peer->peer].push_back(id);
    else
      unreachable.push_back(id);
  }
  for (const auto& [peer, mine] : ids_of_peer) {
    msg::EvaluateTask one = task;  // shared tensors: no tensor data is copied
    one.client_ids = mine;
    one.task_id = next_task_id_++;
    for (int id : mine) evaluation_of_client_[id] = one.task_id;
    if (options_.observer) options_.observer->on_evaluation_sent(task.round, mine);
    const Frames frames = encode(one);
    *wire_bytes += channel_->wire_bytes(frames);
    if (Status sent = channel_->send(peer, frames); !sent.ok())
      peer_lost(peer, "connection closed (" + sent.message() + ")", listener);
  }
  return unreachable;
}

void ClientHub::shutdown(const std::string& reason) {
  for (const auto& peer : registry_.live_peers()) (void)channel_->send(peer, encode(msg::Shutdown{reason}));
}

}  // namespace flotilla
