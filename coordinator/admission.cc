#include "coordinator/admission.h"

namespace flotilla {

bool Admission::admit_unknown(const std::string& peer) {
  auto it = used_.find(peer);
  if (it == used_.end()) {
    if (used_.size() >= options_.max_unknown_peers && !order_.empty()) {
      used_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(peer);
    it = used_.emplace(peer, std::make_pair(0, std::prev(order_.end()))).first;
  }
  if (it->second.first >= options_.messages_per_unknown_peer) {
    ++dropped_;
    return false;
  }
  ++it->second.first;
  return true;
}

void Admission::forget(const std::string& peer) {
  auto it = used_.find(peer);
  if (it == used_.end()) return;
  order_.erase(it->second.second);
  used_.erase(it);
}

}  // namespace flotilla
