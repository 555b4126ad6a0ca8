#include "coordinator/client_registry.h"

#include <algorithm>

namespace flotilla {

Status ClientRegistry::register_peer(const std::string& peer, const std::string& user_id, uint64_t instance_id,
                                     const Capabilities& capabilities, const std::vector<int>& ids,
                                     Clock::time_point now) {
  for (int id : ids) {
    auto owner = owner_.find(id);
    if (owner == owner_.end() || owner->second == peer) continue;
    auto holder = peers_.find(owner->second);
    if (holder == peers_.end()) continue;                     // lost: take it over
    if (holder->second.instance_id == instance_id) continue;  // the same process, reconnected
    return already_exists_error("client " + std::to_string(id) + " is held by a live process (" +
                                holder->second.capabilities.hostname + " pid " +
                                std::to_string(holder->second.capabilities.pid) +
                                "); a restarted process may take it over once that one is gone");
  }
  for (int id : ids) {
    auto owner = owner_.find(id);
    if (owner != owner_.end() && owner->second != peer) {
      // Reassigned: the old peer no longer hosts it; a peer left with no ids is forgotten.
      auto old = peers_.find(owner->second);
      if (old != peers_.end()) {
        auto& held = old->second.client_ids;
        held.erase(std::remove(held.begin(), held.end(), id), held.end());
        if (held.empty()) peers_.erase(old);
      }
    }
    owner_[id] = peer;
  }
  Peer& p = peers_[peer];
  p.peer = peer;
  p.user_id = user_id;
  p.instance_id = instance_id;
  p.capabilities = capabilities;
  p.last_heard = now;
  for (int id : ids)
    if (std::find(p.client_ids.begin(), p.client_ids.end(), id) == p.client_ids.end()) p.client_ids.push_back(id);
  std::sort(p.client_ids.begin(), p.client_ids.end());
  return Status();
}

bool ClientRegistry::heard_from(const std::string& peer, Clock::time_point now) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  it->second.last_heard = now;
  return true;
}

std::vector<int> ClientRegistry::mark_lost(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return {};
  std::vector<int> ids;
  for (int id : it->second.client_ids)
    if (auto owner = owner_.find(id); owner != owner_.end() && owner->second == peer) ids.push_back(id);
  peers_.erase(it);
  return ids;
}

std::vector<std::string> ClientRegistry::silent_peers(Clock::time_point now, Clock::duration timeout) const {
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_)
    if (now - p.last_heard > timeout) out.push_back(id);
  return out;
}

const ClientRegistry::Peer* ClientRegistry::live_peer_of(int id) const {
  auto owner = owner_.find(id);
  if (owner == owner_.end()) return nullptr;
  auto it = peers_.find(owner->second);
  return it == peers_.end() ? nullptr : &it->second;
}

const ClientRegistry::Peer* ClientRegistry::find_peer(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

std::vector<int> ClientRegistry::live_ids() const {
  std::vector<int> ids;
  for (const auto& [id, peer] : owner_)
    if (live_peer_of(id)) ids.push_back(id);
  return ids;
}

std::vector<std::string> ClientRegistry::live_peers() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_) out.push_back(id);
  return out;
}

}  // namespace flotilla
