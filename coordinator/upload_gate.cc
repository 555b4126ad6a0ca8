#include "coordinator/upload_gate.h"

#include <algorithm>

namespace flotilla {
namespace {

bool same_client(const UploadGate::Offer& a, const std::string& peer, int client_id) {
  return a.peer == peer && a.client_id == client_id;
}

}  // namespace

void UploadGate::offer(Offer offer) {
  std::erase_if(queued_, [&](const Offer& q) { return same_client(q, offer.peer, offer.client_id); });
  queued_.push_back(std::move(offer));
}

int64_t UploadGate::release_in_flight_if(const std::function<bool(const Offer&)>& released) {
  return static_cast<int64_t>(std::erase_if(in_flight_, [&](const Offer& o) {
    if (!released(o)) return false;
    in_flight_bytes_ -= o.bytes;
    return true;
  }));
}

std::vector<UploadGate::Offer> UploadGate::grantable(Clock::time_point now) {
  expired_ += release_in_flight_if([&](const Offer& o) { return now - o.granted_at >= grant_timeout_; });
  std::vector<Offer> granted;
  // Compared as a difference: a peer's claimed size may be near INT64_MAX, and a sum would overflow.
  while (!queued_.empty() && (in_flight_.empty() || queued_.front().bytes <= budget_bytes_ - in_flight_bytes_)) {
    in_flight_bytes_ += queued_.front().bytes;
    queued_.front().granted_at = now;
    in_flight_.push_back(queued_.front());
    granted.push_back(std::move(queued_.front()));
    queued_.pop_front();
  }
  peaks_.in_transit_bytes = std::max(peaks_.in_transit_bytes, in_flight_bytes_);
  peaks_.waiting = std::max(peaks_.waiting, static_cast<int64_t>(queued_.size()));  // had to wait their turn
  return granted;
}

UploadGate::Peaks UploadGate::take_peaks() {
  const Peaks peaks = peaks_;
  peaks_ = {in_flight_bytes_, static_cast<int64_t>(queued_.size())};
  return peaks;
}

void UploadGate::done(const std::string& peer, int client_id) {
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [&](const Offer& o) { return same_client(o, peer, client_id); });
  if (it == in_flight_.end()) return;
  in_flight_bytes_ -= it->bytes;
  in_flight_.erase(it);
}

std::vector<UploadGate::Offer> UploadGate::drop_queued_if(const std::function<bool(const Offer&)>& unwanted) {
  std::vector<Offer> dropped;
  std::deque<Offer> kept;
  for (auto& o : queued_) {  // keeps the order of both
    if (unwanted(o))
      dropped.push_back(std::move(o));
    else
      kept.push_back(std::move(o));
  }
  queued_ = std::move(kept);
  return dropped;
}

void UploadGate::forget_peer(const std::string& peer) {
  std::erase_if(queued_, [&](const Offer& o) { return o.peer == peer; });
  release_in_flight_if([&](const Offer& o) { return o.peer == peer; });
}

}  // namespace flotilla
