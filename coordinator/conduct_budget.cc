#include "coordinator/conduct_budget.h"

#include <algorithm>

namespace flotilla {

ConductBudget::Bucket& ConductBudget::bucket_of(const std::string& peer, Clock::time_point now) {
  auto [it, fresh] = peers_.try_emplace(peer);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = options_.burst;
  } else {
    const double seconds = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min<double>(options_.burst, b.tokens + std::max(0.0, seconds) * options_.refill_per_second);
  }
  b.refilled = now;
  return b;
}

ConductBudget::Verdict ConductBudget::on_message(const std::string& peer, Clock::time_point now) {
  Bucket& b = bucket_of(peer, now);
  if (b.tokens >= 1.0) return Verdict::kRead;
  ++dropped_;
  if (++b.dropped < options_.disconnect_after) return Verdict::kThrottled;
  peers_.erase(peer);
  return Verdict::kDisconnect;
}

void ConductBudget::charge(const std::string& peer, Clock::time_point now) {
  Bucket& b = bucket_of(peer, now);
  b.tokens = std::max(0.0, b.tokens - 1.0);
}

}  // namespace flotilla
