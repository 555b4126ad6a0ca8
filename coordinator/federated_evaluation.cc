#include "coordinator/federated_evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "coordinator/client_sampler.h"
#include "coordinator/measure.h"
#include "core/log.h"
#include "partitioners/random.h"

namespace flotilla {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kFederatedEvalStream = 0x4645564cULL;  // "FEVL": its own draw, apart from training's

}  // namespace

void summarise_federated_eval(FederatedEvalMetrics& m) {
  m.answered = 0;
  m.num_samples = 0;
  double loss = 0, correct = 0;
  for (const auto& c : m.clients) {
    if (c.status != "ok") continue;
    ++m.answered;
    m.num_samples += c.num_samples;
    loss += c.loss * static_cast<double>(c.num_samples);
    correct += c.accuracy * static_cast<double>(c.num_samples);
  }
  const double n = static_cast<double>(m.num_samples);
  m.loss = n > 0 ? loss / n : 0.0;
  m.accuracy = n > 0 ? correct / n : 0.0;
}

StatusOr<FederatedEvalMetrics> FederatedEvaluation::run(int round, const ModelState& model, const std::vector<int>& ids,
                                                        const TrainConfig& config, double timeout_s,
                                                        const std::atomic<bool>* stop) {
  round_ = round;
  rows_.clear();
  for (int id : ids) rows_[id].client_id = id;
  outstanding_ = static_cast<int>(rows_.size());
  FederatedEvalMetrics metrics;
  msg::EvaluateTask task;
  task.round = round;
  task.state = model;  // shared tensors: encoding copies no tensor data
  task.config = config;
  const auto start = Clock::now();
  for (int id : hub_.send_evaluation(task, ids, this, &metrics.bytes_sent)) end(id, "lost: no live process hosts it");
  while (outstanding_ > 0 && seconds_since(start) < timeout_s) {
    if (stop && stop->load()) return aborted_error("stopped during round " + std::to_string(round) + "'s evaluation");
    RETURN_IF_ERROR(hub_.pump(this));
  }
  if (outstanding_ > 0) {
    FLOTILLA_LOG(Warning) << "round " << round << ": " << outstanding_ << " client(s) did not evaluate within "
                          << timeout_s << " s (--round-timeout)";
    for (auto& [id, row] : rows_) end(id, "timeout");
  }
  metrics.seconds = seconds_since(start);
  for (auto& [id, row] : rows_) metrics.clients.push_back(std::move(row));
  rows_.clear();
  summarise_federated_eval(metrics);
  return metrics;
}

void FederatedEvaluation::end(int id, const std::string& status) {
  auto it = rows_.find(id);
  if (it == rows_.end() || it->second.status != "ok" || it->second.num_samples > 0) return;
  it->second.status = status;
  --outstanding_;
}

void FederatedEvaluation::on_evaluate_result(const msg::EvaluateResult& result, int64_t wire_bytes) {
  auto it = rows_.find(result.client_id);
  if (result.round != round_ || it == rows_.end() || it->second.status != "ok" || it->second.num_samples > 0) return;
  ClientEvalMetrics& row = it->second;
  if (result.num_samples < 1) return end(result.client_id, "error: evaluated on no samples");
  row.num_samples = result.num_samples;
  row.loss = result.loss;
  row.accuracy = result.accuracy;
  row.class_total = result.class_total;
  row.class_correct = result.class_correct;
  row.bytes_received = wire_bytes;
  --outstanding_;
}

void FederatedEvaluation::on_evaluate_error(const msg::Error& error) {
  if (error.round == round_) end(error.client_id, "error: " + error.message);
}

void FederatedEvaluation::on_client_error(const msg::Error& error) { training_.on_client_error(error); }

void FederatedEvaluation::on_clients_lost(const std::vector<int>& ids, const std::string& why) {
  for (int id : ids) end(id, "lost: " + why);
  training_.on_clients_lost(ids, why);
}

void FederatedEvaluation::on_clients_registered(const std::vector<int>& ids) {
  // A process that registers anew lost the task it was sent (it restarted, or the coordinator
  // thought it gone): it will not answer.
  for (int id : ids) end(id, "lost: registered again during the evaluation");
  training_.on_clients_registered(ids);
}

std::vector<int> federated_eval_sample(const CoordinatorConfig& config, const std::vector<int>& live, int round) {
  const double fraction = config.federated_eval_fraction > 0 ? config.federated_eval_fraction : config.fraction;
  const int available = static_cast<int>(live.size());
  const int wanted = std::min(available, std::max(1, static_cast<int>(std::ceil(fraction * available - 1e-9))));
  return sample_clients(live, wanted, derive_seed(config.experiment.seed, kFederatedEvalStream), round);
}

void FederatedEvaluation::on_update(msg::ClientUpdate update, int64_t wire_bytes) {
  training_.on_update(std::move(update), wire_bytes);
}

}  // namespace flotilla
