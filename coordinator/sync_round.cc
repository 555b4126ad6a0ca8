#include "coordinator/sync_round.h"

#include <algorithm>

namespace flotilla {

void SyncRound::task_sent(int id, int64_t bytes, std::vector<int64_t> label_histogram) {
  ClientRoundMetrics& m = clients_[id];
  m.client_id = id;
  m.status = "pending";
  m.bytes_sent = bytes;
  m.label_histogram = std::move(label_histogram);
  sampled_.push_back(id);
  outstanding_.insert(id);
}

void SyncRound::task_ended(int id, const std::string& status) {
  if (!outstanding_.erase(id)) return;
  clients_[id].status = status;
}

void SyncRound::accept(int id, ClientRoundMetrics measured) {
  if (!outstanding_.erase(id)) return;
  ++answered_;
  ClientRoundMetrics& m = clients_[id];
  measured.client_id = id;
  measured.bytes_sent = m.bytes_sent;
  measured.label_histogram = std::move(m.label_histogram);
  measured.status = "ok";
  m = std::move(measured);
}

void SyncRound::time_out() {
  for (int id : outstanding_) clients_[id].status = "timeout";
  outstanding_.clear();
}

std::vector<int> SyncRound::failures() const {
  std::vector<int> out;
  for (const auto& [id, m] : clients_)
    if (m.status != "ok") out.push_back(id);
  return out;
}

void SyncRound::fill(RoundMetrics* metrics) const {
  metrics->sampled = sampled_;
  metrics->clients.clear();
  metrics->lost = 0;
  metrics->bytes_sent = metrics->bytes_received = 0;
  metrics->wire_bytes_sent = wire_bytes_sent_;
  for (const auto& [id, m] : clients_) {
    metrics->clients.push_back(m);
    metrics->bytes_sent += m.bytes_sent;
    metrics->bytes_received += m.bytes_received;
    if (m.status.rfind("lost", 0) == 0) ++metrics->lost;
  }
  int ok = 0;
  for (const auto& [id, m] : clients_) ok += m.status == "ok";
  metrics->answered = ok;
}

std::string SyncRound::shortfall() const {
  int lost = 0, timeouts = 0, errors = 0, ok = 0;
  for (const auto& [id, m] : clients_) {
    if (m.status == "ok")
      ++ok;
    else if (m.status == "timeout")
      ++timeouts;
    else if (m.status.rfind("lost", 0) == 0)
      ++lost;
    else if (m.status.rfind("error", 0) == 0)
      ++errors;
  }
  return std::to_string(ok) + " of --min-fit " + std::to_string(min_fit_) + " answers from " +
         std::to_string(clients_.size()) + " tasks: " + std::to_string(lost) + " lost, " + std::to_string(timeouts) +
         " timed out, " + std::to_string(errors) + " errors";
}

}  // namespace flotilla
