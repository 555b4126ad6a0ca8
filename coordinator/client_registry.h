// Which logical clients are registered, through which peer (process) they are reached, and
// whether they are currently answering. Coordinator thread only.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "protocol/messages.h"

namespace flotilla {

class ClientRegistry {
 public:
  struct Client {
    int id = -1;
    std::string peer;
    Capabilities capabilities;
    bool active = true;  // false after a missed round, until the client is heard from again
  };

  // Adds or re-binds `id` to `peer` (a restarted process takes its ids back).
  void add(int id, const std::string& peer, const Capabilities& capabilities);

  const Client* find(int id) const;
  int size() const { return static_cast<int>(clients_.size()); }
  // Active clients' ids, ascending.
  std::vector<int> active_ids() const;
  // Distinct peers, for broadcasts (heartbeat, shutdown).
  std::set<std::string> peers() const;

  void mark_inactive(int id);
  // Any message from a peer shows its clients are alive.
  void mark_peer_active(const std::string& peer);

 private:
  std::map<int, Client> clients_;
};

}  // namespace flotilla
