#include "coordinator/live_status.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "coordinator/measure.h"
#include "core/json_number.h"

namespace flotilla {
namespace {

using nlohmann::json;

constexpr double kNotMeasured = std::numeric_limits<double>::quiet_NaN();

double seconds_between(LiveStatus::Clock::time_point from, LiveStatus::Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

json optional_number(const std::optional<double>& v) { return v ? json_number(*v) : json(nullptr); }

json policy_json(const std::map<std::string, double>& policy) {
  json out = json::object();
  for (const auto& [key, value] : policy) out[key] = json_number(value);
  return out;
}

// One round of the history, as /api/rounds serves it. `committed` false: the round closed and its
// model is still being evaluated, so its test accuracy is not known yet.
std::string round_entry(const RoundMetrics& m, bool committed) {
  json statuses = {{"ok", 0}, {"timeout", 0}, {"lost", 0}, {"error", 0}};
  for (const auto& c : m.clients) {
    const std::string kind = c.status.substr(0, c.status.find(':'));
    if (statuses.contains(kind)) statuses[kind] = statuses[kind].get<int>() + 1;
  }
  json entry = {
      {"round", m.round},
      {"status", m.status},
      {"committed", committed},
      {"sampled", m.sampled.size()},
      {"answered", m.answered},
      {"lost", m.lost},
      {"client_statuses", statuses},
      {"test_accuracy", committed ? json_number(m.test_accuracy) : json(nullptr)},
      {"test_loss", committed ? json_number(m.test_loss) : json(nullptr)},
      {"mean_train_loss", m.answered > 0 ? json_number(m.mean_train_loss) : json(nullptr)},
      {"bytes_sent", m.bytes_sent},
      {"bytes_received", m.bytes_received},
      {"wire_bytes_sent", m.wire_bytes_sent},
      {"upload_peak_bytes", m.upload_peak_bytes},
      {"mean_divergence", m.answered > 0 ? json_number(m.mean_divergence) : json(nullptr)},
      {"max_divergence", m.answered > 0 ? json_number(m.max_divergence) : json(nullptr)},
      {"round_seconds", json_number(m.round_seconds)},
      {"wait_seconds", json_number(m.wait_seconds)},
      {"aggregate_seconds", json_number(m.aggregate_seconds)},
      {"eval_seconds", committed ? json_number(m.eval_seconds) : json(nullptr)},
      {"finished_unix", json_number(m.finished_unix)},
      {"policy", policy_json(m.policy)},
  };
  if (m.federated) {
    const FederatedEvalMetrics& f = *m.federated;
    json clients = json::array();
    for (const auto& c : f.clients)
      clients.push_back({{"id", c.client_id},
                         {"status", c.status},
                         {"samples", c.num_samples},
                         {"accuracy", c.status == "ok" ? json_number(c.accuracy) : json(nullptr)},
                         {"loss", c.status == "ok" ? json_number(c.loss) : json(nullptr)}});
    entry["federated"] = {{"accuracy", f.answered > 0 ? json_number(f.accuracy) : json(nullptr)},
                          {"loss", f.answered > 0 ? json_number(f.loss) : json(nullptr)},
                          {"answered", f.answered},
                          {"bytes_sent", f.bytes_sent},
                          {"seconds", json_number(f.seconds)},
                          {"clients", std::move(clients)}};
  }
  return entry.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_outcome(LiveStatus::ClientState s) {
  using S = LiveStatus::ClientState;
  return s == S::kDone || s == S::kTimeout || s == S::kError || s == S::kEvaluating || s == S::kEvaluated ||
         s == S::kSampled;
}

bool in_task(LiveStatus::ClientState s) {
  using S = LiveStatus::ClientState;
  return s == S::kSampled || s == S::kTraining || s == S::kOffered || s == S::kUploading || s == S::kDone;
}

// Prometheus text exposition format 0.0.4: a # HELP and a # TYPE line before each family's samples.
class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const std::string& name, double value, const std::string& labels = "") {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
  }
  void one(const char* name, const char* type, const char* help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as v
    return ec == std::errc() ? std::string(buf, end) : "NaN";
  }
  // A label value: backslash, double quote and newline escaped.
  static std::string label(const std::string& value) {
    std::string out;
    for (char ch : value) {
      if (ch == '\\' || ch == '"') out += '\\';
      if (ch == '\n') {
        out += "\\n";
        continue;
      }
      out += ch;
    }
    return out;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

const char* LiveStatus::state_name(ClientState state) {
  switch (state) {
    case ClientState::kUnregistered:
      return "unregistered";
    case ClientState::kIdle:
      return "idle";
    case ClientState::kSampled:
      return "sampled";
    case ClientState::kTraining:
      return "training";
    case ClientState::kOffered:
      return "offered";
    case ClientState::kUploading:
      return "uploading";
    case ClientState::kDone:
      return "done";
    case ClientState::kTimeout:
      return "timeout";
    case ClientState::kError:
      return "error";
    case ClientState::kLost:
      return "lost";
    case ClientState::kEvaluating:
      return "evaluating";
    case ClientState::kEvaluated:
      return "evaluated";
  }
  return "unknown";
}

const std::vector<double>& LiveStatus::duration_buckets() {
  static const std::vector<double> buckets = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};
  return buckets;
}

LiveStatus::LiveStatus(std::function<Clock::time_point()> now)
    : now_(std::move(now)), duration_counts_(duration_buckets().size() + 1, 0) {}

LiveStatus::Row* LiveStatus::row(int id) {
  return id >= 0 && id < static_cast<int>(rows_.size()) ? &rows_[static_cast<size_t>(id)] : nullptr;
}

void LiveStatus::set_state(Row& row, ClientState state, Clock::time_point now) {
  if (row.state == state) return;
  row.state = state;
  row.since = now;
}

void LiveStatus::begin_round(int round, Clock::time_point now) {
  if (round <= task_round_) return;
  task_round_ = round;
  round_start_ = now;
  if (status_ == "waiting") status_ = "training";
  for (Row& r : rows_)
    if (r.round < round && is_outcome(r.state)) set_state(r, ClientState::kIdle, now);
}

void LiveStatus::on_run_started(const RunInfo& info) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  info_ = info;
  started_ = true;
  status_ = "waiting";
  run_start_ = now;
  run_start_unix_ = unix_now();
  rows_.assign(static_cast<size_t>(std::max(0, info.num_clients)), Row{});
  for (Row& r : rows_) {
    r.since = now;
    r.loss = r.eval_accuracy = r.eval_loss = kNotMeasured;
  }
  task_round_ = closed_round_ = last_committed_ = info.first_round - 1;
}

void LiveStatus::on_run_finished(bool ok, const std::string& message) {
  std::lock_guard lock(mutex_);
  status_ = ok ? "finished" : "failed";
  message_ = message;
  round_start_.reset();
}

void LiveStatus::on_clients_registered(const std::vector<int>& ids, const std::string& process) {
  const auto now = now_();
  auto name = std::make_shared<const std::string>(process);
  std::lock_guard lock(mutex_);
  for (int id : ids) {
    Row* r = row(id);
    if (!r) continue;
    if (!r->alive) ++alive_;
    r->alive = true;
    r->process = name;
    r->last_heard = now;
    r->note.clear();
    set_state(*r, ClientState::kIdle, now);
  }
}

void LiveStatus::on_clients_lost(const std::vector<int>& ids, const std::string& why) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  for (int id : ids) {
    Row* r = row(id);
    if (!r) continue;
    if (r->alive) --alive_;
    r->alive = false;
    r->note = why;
    ++lost_total_;
    set_state(*r, ClientState::kLost, now);
  }
}

void LiveStatus::on_heard_from(const std::vector<int>& ids) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  for (int id : ids)
    if (Row* r = row(id)) r->last_heard = now;
}

void LiveStatus::on_tasks_prepared(int round, const std::vector<int>& ids) {
  enter_round(round, ids, ClientState::kSampled, /*clear_note=*/true);
}

void LiveStatus::on_tasks_sent(int round, const std::vector<int>& ids) {
  enter_round(round, ids, ClientState::kTraining, /*clear_note=*/false);
}

void LiveStatus::on_upload_offered(int id) { move_to(id, ClientState::kOffered); }

void LiveStatus::on_upload_granted(int id) { move_to(id, ClientState::kUploading); }

void LiveStatus::on_update_received(int id, int64_t wire_bytes) { move_to(id, ClientState::kDone); }

void LiveStatus::on_client_error(int id, const std::string& message) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  if (Row* r = row(id)) {
    r->note = message;
    set_state(*r, ClientState::kError, now);
  }
}

void LiveStatus::on_evaluation_sent(int round, const std::vector<int>& ids) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  for (int id : ids)
    if (Row* r = row(id)) set_state(*r, ClientState::kEvaluating, now);
}

void LiveStatus::on_evaluation_received(int id) { move_to(id, ClientState::kEvaluated); }

void LiveStatus::move_to(int id, ClientState state) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  if (Row* r = row(id)) set_state(*r, state, now);
}

void LiveStatus::enter_round(int round, const std::vector<int>& ids, ClientState state, bool clear_note) {
  const auto now = now_();
  std::lock_guard lock(mutex_);
  begin_round(round, now);
  for (int id : ids) {
    Row* r = row(id);
    if (!r) continue;
    r->round = round;
    if (clear_note) r->note.clear();
    set_state(*r, state, now);
  }
}

void LiveStatus::on_upload_memory(int64_t in_use_bytes) {
  std::lock_guard lock(mutex_);
  upload_in_use_ = in_use_bytes;
}

void LiveStatus::on_round_closed(const RoundMetrics& m) {
  Entry entry{m.round, std::make_shared<const std::string>(round_entry(m, false))};
  const auto now = now_();
  std::lock_guard lock(mutex_);
  closed_round_ = std::max(closed_round_, m.round);
  closes_.push_back(now);
  round_start_ = now;  // until the next round's tasks go out, the time since this close counts
  if (m.status == "ok") round_seconds_.push_back(m.round_seconds);
  const auto& buckets = duration_buckets();
  const size_t bucket = std::lower_bound(buckets.begin(), buckets.end(), m.round_seconds) - buckets.begin();
  ++duration_counts_[std::min(bucket, buckets.size())];
  duration_sum_ += m.round_seconds;
  ++duration_count_;
  bytes_sent_total_ += m.wire_bytes_sent;
  bytes_received_total_ += m.bytes_received;
  for (const ClientRoundMetrics& c : m.clients) {
    Row* r = row(c.client_id);
    if (!r) continue;
    r->bytes_sent = c.bytes_sent;
    r->bytes_received = c.bytes_received;
    r->bytes_sent_total += c.bytes_sent;
    r->bytes_received_total += c.bytes_received;
    const bool ok = c.status == "ok";
    if (ok) {
      r->samples = c.num_samples;
      r->loss = c.train_loss;
      ++r->rounds_answered;
    }
    // A row that shows a later task, or a process that re-registered since, keeps what it shows.
    if (r->round > m.round || !in_task(r->state)) continue;
    if (!ok) r->note = c.status;
    if (ok)
      set_state(*r, ClientState::kDone, now);
    else if (c.status == "timeout")
      set_state(*r, ClientState::kTimeout, now);
    else if (c.status.rfind("lost", 0) == 0)
      set_state(*r, r->alive ? ClientState::kIdle : ClientState::kLost, now);
    else
      set_state(*r, ClientState::kError, now);
  }
  if (m.federated) {
    bytes_sent_total_ += m.federated->bytes_sent;
    for (const ClientEvalMetrics& c : m.federated->clients) {
      bytes_received_total_ += c.bytes_received;
      Row* r = row(c.client_id);
      if (!r || c.status != "ok") continue;
      r->eval_accuracy = c.accuracy;
      r->eval_loss = c.loss;
    }
  }
  pending_ = std::move(entry);
}

void LiveStatus::on_round_committed(const RoundMetrics& m) {
  Entry entry{m.round, std::make_shared<const std::string>(round_entry(m, true))};
  std::lock_guard lock(mutex_);
  if (pending_ && pending_->round <= m.round) pending_.reset();
  if (!history_.empty() && history_.back().round >= m.round) return;  // committed once only
  history_.push_back(std::move(entry));
  last_committed_ = m.round;
  if (m.status == "ok")
    ++completed_;
  else
    ++failed_;
  if (std::isfinite(m.test_accuracy)) test_accuracy_ = m.test_accuracy;
  if (std::isfinite(m.test_loss)) test_loss_ = m.test_loss;
  if (m.federated && m.federated->answered > 0) {
    federated_accuracy_ = m.federated->accuracy;
    federated_loss_ = m.federated->loss;
  }
  if (auto it = m.policy.find("mean_staleness"); it != m.policy.end()) mean_staleness_ = it->second;
  if (auto it = m.policy.find("epsilon"); it != m.policy.end()) epsilon_ = it->second;
}

std::optional<double> LiveStatus::seconds_left(Clock::time_point now) const {
  if (status_ == "finished") return 0.0;
  if (status_ != "training") return std::nullopt;
  // Wall time between closes counts everything a round costs (evaluation, federated evaluation);
  // before two closes the first round's own time is all there is.
  double mean = 0;
  if (closes_.size() >= 2)
    mean = seconds_between(closes_.front(), closes_.back()) / static_cast<double>(closes_.size() - 1);
  else if (!round_seconds_.empty())
    mean = round_seconds_.front();
  else
    return std::nullopt;
  const int remaining = info_.rounds - closed_round_;
  if (remaining <= 0) return 0.0;
  const double in_current = round_start_ ? seconds_between(*round_start_, now) : 0.0;
  return mean * (remaining - 1) + std::max(0.0, mean - in_current);
}

LiveStatus::Totals LiveStatus::totals() const {
  return {info_,           status_,         alive_,         last_committed_, lost_total_,
          upload_in_use_,  completed_,      test_accuracy_, test_loss_,      federated_accuracy_,
          federated_loss_, mean_staleness_, epsilon_};
}

std::string LiveStatus::state_json() const {
  const auto now = now_();
  // Copied under the lock, formatted after it.
  Totals totals_now;
  std::string message;
  std::vector<Row> rows;
  int task_round, closed_round;
  double started_unix, elapsed;
  std::optional<double> round_elapsed, left, mean_round;
  {
    std::lock_guard lock(mutex_);
    totals_now = totals();
    message = message_;
    rows = rows_;
    task_round = task_round_;
    closed_round = closed_round_;
    started_unix = run_start_unix_;
    elapsed = started_ ? seconds_between(run_start_, now) : 0.0;
    if (round_start_) round_elapsed = seconds_between(*round_start_, now);
    left = seconds_left(now);
    if (closes_.size() >= 2)
      mean_round = seconds_between(closes_.front(), closes_.back()) / static_cast<double>(closes_.size() - 1);
    else if (!round_seconds_.empty())
      mean_round = round_seconds_.front();
  }
  const auto& [info, status, alive, last_committed, lost_total, upload_in_use, completed, test_accuracy, test_loss,
               federated_accuracy, federated_loss, mean_staleness, epsilon] = totals_now;
  const bool running = status == "waiting" || status == "training";
  const int in_progress =
      running ? std::min(std::max(task_round, closed_round + 1), std::max(info.rounds, 1)) : closed_round;
  json states = json::object();
  // Asynchronous training has no rounds of clients: every task in flight, and every update that
  // arrived since a client was last given one, counts.
  const bool async = info.mode == "async";
  int sampled = 0, done = 0;
  json client_rows = json::array();
  for (size_t id = 0; id < rows.size(); ++id) {
    const Row& r = rows[id];
    const char* state = state_name(r.state);
    states[state] = states.value(state, 0) + 1;
    if (async ? in_task(r.state) : r.round == in_progress && r.state != ClientState::kUnregistered) {
      ++sampled;
      if (r.state == ClientState::kDone || r.state == ClientState::kEvaluating || r.state == ClientState::kEvaluated)
        ++done;
    }
    client_rows.push_back({
        {"id", id},
        {"state", state},
        {"state_seconds", seconds_between(r.since, now)},
        {"round", r.round},
        {"alive", r.alive},
        {"process", r.process ? json(*r.process) : json(nullptr)},
        {"note", r.note},
        {"samples", r.samples},
        {"loss", json_number(r.loss)},
        {"bytes_sent", r.bytes_sent},
        {"bytes_received", r.bytes_received},
        {"bytes_sent_total", r.bytes_sent_total},
        {"bytes_received_total", r.bytes_received_total},
        {"rounds_answered", r.rounds_answered},
        {"last_heard_seconds", r.last_heard ? json(seconds_between(*r.last_heard, now)) : json(nullptr)},
        {"eval_accuracy", json_number(r.eval_accuracy)},
        {"eval_loss", json_number(r.eval_loss)},
    });
  }
  json out = {
      {"run",
       {{"status", status},
        {"message", message},
        {"run_dir", info.run_dir},
        {"mode", info.mode},
        {"topology", info.topology},
        {"aggregator", info.aggregator},
        {"dataset", info.dataset},
        {"model", info.model},
        {"endpoint", info.endpoint},
        {"security", info.security},
        {"rounds", info.rounds},
        {"first_round", info.first_round},
        {"num_clients", info.num_clients},
        {"min_clients", info.min_clients},
        {"round_timeout_seconds", info.round_timeout_s},
        {"federated_eval", info.federated_eval},
        {"started_unix", started_unix},
        {"elapsed_seconds", elapsed}}},
      {"round",
       {{"number", in_progress},
        {"elapsed_seconds", optional_number(round_elapsed)},
        {"sampled", sampled},
        {"done", done}}},
      {"rounds_completed", completed},
      {"last_closed_round", closed_round},
      {"last_committed_round", last_committed},
      {"estimate", {{"mean_round_seconds", optional_number(mean_round)}, {"left_seconds", optional_number(left)}}},
      {"counts",
       {{"clients", rows.size()}, {"alive", alive}, {"lost_total", lost_total}, {"states", std::move(states)}}},
      {"upload_memory", {{"in_use_bytes", upload_in_use}, {"limit_bytes", info.upload_memory_bytes}}},
      {"latest",
       {{"test_accuracy", optional_number(test_accuracy)},
        {"test_loss", optional_number(test_loss)},
        {"federated_accuracy", optional_number(federated_accuracy)},
        {"federated_loss", optional_number(federated_loss)},
        {"mean_staleness", optional_number(mean_staleness)},
        {"epsilon", optional_number(epsilon)}}},
      {"clients", std::move(client_rows)},
  };
  // Process names come from the clients: invalid UTF-8 is replaced, never thrown on.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string LiveStatus::rounds_json(int since) const {
  std::vector<std::shared_ptr<const std::string>> entries;
  int last_committed;
  {
    std::lock_guard lock(mutex_);
    auto first =
        std::upper_bound(history_.begin(), history_.end(), since, [](int k, const Entry& e) { return k < e.round; });
    for (auto it = first; it != history_.end(); ++it) entries.push_back(it->json);
    if (pending_ && pending_->round > since) entries.push_back(pending_->json);
    last_committed = last_committed_;
  }
  std::string out = "{\"last_committed_round\":" + std::to_string(last_committed) + ",\"rounds\":[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ',';
    out += *entries[i];
  }
  out += "]}";
  return out;
}

std::string LiveStatus::prometheus_text() const {
  Totals totals_now;
  int64_t failed, sent, received, duration_count;
  std::vector<int64_t> counts;
  double duration_sum;
  {
    std::lock_guard lock(mutex_);
    totals_now = totals();
    failed = failed_;
    sent = bytes_sent_total_;
    received = bytes_received_total_;
    counts = duration_counts_;
    duration_sum = duration_sum_;
    duration_count = duration_count_;
  }
  const auto& [info, status, alive, last_committed, lost_total, upload_in_use, completed, test_accuracy, test_loss,
               federated_accuracy, federated_loss, mean_staleness, epsilon] = totals_now;
  Exposition e;
  e.family("flotilla_run_info", "gauge", "The run this coordinator serves (always 1; its labels say which).");
  e.sample("flotilla_run_info", 1,
           "mode=\"" + Exposition::label(info.mode) + "\",topology=\"" + Exposition::label(info.topology) +
               "\",aggregator=\"" + Exposition::label(info.aggregator) + "\",dataset=\"" +
               Exposition::label(info.dataset) + "\",model=\"" + Exposition::label(info.model) + "\",status=\"" +
               Exposition::label(status) + "\"");
  e.one("flotilla_rounds_planned", "gauge", "The run's last round (--rounds).", info.rounds);
  e.one("flotilla_round", "gauge", "The last round recorded.", last_committed);
  e.one("flotilla_rounds_completed_total", "counter", "Rounds recorded as ok since this coordinator started.",
        static_cast<double>(completed));
  e.one("flotilla_rounds_failed_total", "counter", "Rounds recorded as failed since this coordinator started.",
        static_cast<double>(failed));
  if (test_accuracy)
    e.one("flotilla_test_accuracy", "gauge", "Test accuracy of the last evaluated global model (0..1).",
          *test_accuracy);
  if (test_loss) e.one("flotilla_test_loss", "gauge", "Test loss of the last evaluated global model.", *test_loss);
  if (federated_accuracy)
    e.one("flotilla_federated_accuracy", "gauge",
          "Sample-weighted accuracy of the last federated evaluation on the clients' own test data.",
          *federated_accuracy);
  if (federated_loss)
    e.one("flotilla_federated_loss", "gauge", "Sample-weighted loss of the last federated evaluation.",
          *federated_loss);
  if (mean_staleness)
    e.one("flotilla_async_mean_staleness", "gauge", "Mean staleness of the updates of the last recorded version.",
          *mean_staleness);
  if (epsilon) e.one("flotilla_privacy_epsilon", "gauge", "Privacy budget spent so far (epsilon).", *epsilon);
  e.one("flotilla_bytes_sent_total", "counter",
        "Bytes of training and evaluation tasks sent to clients, as they went on the wire.", static_cast<double>(sent));
  e.one("flotilla_bytes_received_total", "counter", "Bytes of updates and evaluation results received from clients.",
        static_cast<double>(received));
  e.one("flotilla_clients", "gauge", "Logical clients of the run.", info.num_clients);
  e.one("flotilla_clients_alive", "gauge", "Logical clients whose process is registered and alive.", alive);
  e.one("flotilla_clients_lost_total", "counter", "Logical clients lost with their process (died or went silent).",
        static_cast<double>(lost_total));
  e.one("flotilla_upload_memory_bytes", "gauge", "Bytes of granted client uploads in transit now.",
        static_cast<double>(upload_in_use));
  e.one("flotilla_upload_memory_limit_bytes", "gauge", "The bound on bytes of uploads in transit (--upload-memory).",
        static_cast<double>(info.upload_memory_bytes));
  e.family("flotilla_round_duration_seconds", "histogram",
           "Wall time of each round, from sending its tasks to its new model (evaluation not included).");
  const auto& buckets = duration_buckets();
  int64_t cumulative = 0;
  for (size_t b = 0; b <= buckets.size(); ++b) {
    cumulative += counts[b];
    const std::string le = b < buckets.size() ? Exposition::number(buckets[b]) : "+Inf";
    e.sample("flotilla_round_duration_seconds_bucket", static_cast<double>(cumulative), "le=\"" + le + "\"");
  }
  e.sample("flotilla_round_duration_seconds_sum", duration_sum);
  e.sample("flotilla_round_duration_seconds_count", static_cast<double>(duration_count));
  return e.take();
}

}  // namespace flotilla
