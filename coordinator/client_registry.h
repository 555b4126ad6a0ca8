// Which logical clients are registered, through which peer (client process) each is reached, and
// which peers are alive. Coordinator thread only.
//
// Liveness: a peer is alive from its registration until it is declared lost, either because a
// send to it failed (ZeroMQ knows the connection is gone: a killed process is noticed within one
// heartbeat) or because nothing came from it for the peer timeout (a vanished host, a cut
// network). A lost peer's ids stay registered, unreachable, until a process registers them again.
//
// Ownership of ids: a process registers its ids with a random instance id. Ids held by a live
// peer of another instance are refused (no hijacking); ids of a lost peer, or of the same
// instance on a new connection (a reconnect), are taken over.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "protocol/messages.h"

namespace flotilla {

class ClientRegistry {
 public:
  using Clock = std::chrono::steady_clock;

  struct Peer {
    std::string peer;     // transport peer id
    std::string user_id;  // authenticated identity (CURVE key name); empty without CURVE
    uint64_t instance_id = 0;
    Capabilities capabilities;
    std::vector<int> client_ids;
    Clock::time_point last_heard{};
  };

  // Binds `ids` to `peer`. AlreadyExists naming the first id that a live peer of another instance
  // holds (nothing changes then). Ids the peer held before and does not list stay with it.
  Status register_peer(const std::string& peer, const std::string& user_id, uint64_t instance_id,
                       const Capabilities& capabilities, const std::vector<int>& ids, Clock::time_point now);

  // Any message from a registered peer shows it is alive. False for an unknown or lost peer.
  bool heard_from(const std::string& peer, Clock::time_point now);
  // Declares `peer` lost; returns the ids it held that are not yet rebound elsewhere (empty when
  // it was unknown or already lost).
  std::vector<int> mark_lost(const std::string& peer);
  // Live peers not heard from since `now - timeout`.
  std::vector<std::string> silent_peers(Clock::time_point now, Clock::duration timeout) const;

  // The live peer hosting `id`, or nullptr.
  const Peer* live_peer_of(int id) const;
  const Peer* find_peer(const std::string& peer) const;
  bool is_registered_peer(const std::string& peer) const { return peers_.count(peer) > 0; }

  // Ids reachable now (their peer is alive), ascending.
  std::vector<int> live_ids() const;
  // Ids ever registered (alive or not).
  int size() const { return static_cast<int>(owner_.size()); }
  int live_size() const { return static_cast<int>(live_ids().size()); }
  // Live peers, for broadcasts (heartbeat, shutdown).
  std::vector<std::string> live_peers() const;

 private:
  std::map<std::string, Peer> peers_;  // live peers by transport peer id; a lost peer is erased
  std::map<int, std::string> owner_;   // client id -> peer id of its latest registration
};

}  // namespace flotilla
