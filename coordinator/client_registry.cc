#include "coordinator/client_registry.h"

namespace flotilla {

void ClientRegistry::add(int id, const std::string& peer, const Capabilities& capabilities) {
  clients_[id] = Client{id, peer, capabilities, true};
}

const ClientRegistry::Client* ClientRegistry::find(int id) const {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : &it->second;
}

std::vector<int> ClientRegistry::active_ids() const {
  std::vector<int> ids;
  for (const auto& [id, c] : clients_)
    if (c.active) ids.push_back(id);
  return ids;
}

std::set<std::string> ClientRegistry::peers() const {
  std::set<std::string> out;
  for (const auto& [id, c] : clients_) out.insert(c.peer);
  return out;
}

void ClientRegistry::mark_inactive(int id) {
  auto it = clients_.find(id);
  if (it != clients_.end()) it->second.active = false;
}

void ClientRegistry::mark_peer_active(const std::string& peer) {
  for (auto& [id, c] : clients_)
    if (c.peer == peer) c.active = true;
}

}  // namespace flotilla
