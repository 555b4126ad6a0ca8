// ZmqPeerTransport: PeerTransport over the transport/zmq channels. Each rank binds one
// ServerChannel (ROUTER) at its own endpoint and receives everything there; it connects one
// ClientChannel (DEALER) to each rank it sends to, on the first send. tcp:// and ipc:// endpoints
// (ipc:// needs no free port, so tests use it in a fresh folder).
//
// Wire: every message starts with a 16-byte header frame (magic, sender rank, sequence number of
// this sender->receiver pair) because the ROUTER's peer id is opaque; the receiver attributes the
// message by it, drops a duplicate sequence (logged) and fails with DataLoss on a gap.
//
// Security: with CURVE keys (ZmqPeerOptions::keys), every rank's server admits only the group's
// public keys (an Allowlist of PeerInfo, names "rank-<r>") and each connection authenticates its
// target by the target's public key: the CurveZMQ settings of the coordinator star. A message whose
// header claims a rank other than the one its key was admitted as is refused (PermissionDenied).
//
// Limits: the caller gives the largest message it expects (from the model size). libzmq drops a
// connection that announces a bigger frame before allocating it, and the server releases a
// message whose frames add up to more without handing it out, so a hostile peer cannot make a rank
// allocate more than about one such message per connection.
//
// Shutdown: messages still queued when the process exits are lost (libzmq delivers lingering
// messages only while its context lives, and the transport's context is process-wide). A program
// that exits right after a collective should end the ZeroMQ context (zmq_ctx_term(zmq_context()),
// which waits up to linger_ms) before exiting.
//
// Thread-safety: none (see peer_transport.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collective/peer_transport.h"
#include "transport/channel.h"
#include "transport/curve_keys.h"

namespace flotilla {

struct PeerInfo {
  int rank = -1;
  std::string endpoint;    // where that rank binds, e.g. "ipc:///tmp/x/rank-0" or "tcp://10.0.0.5:5600"
  std::string public_key;  // Z85 CURVE public key; required when CURVE is on, else ignored
};

struct ZmqPeerOptions {
  // This rank's CURVE key pair; empty (default) runs in the clear. When set, every PeerInfo needs
  // its public key, and this rank's PeerInfo key must be keys.public_key.
  CurveKeyPair keys;
  // Largest message payload expected (sum of frame sizes, the transport header excluded), e.g. the
  // model's byte size plus a little; larger messages are refused. Must be > 0. Default 1 GiB.
  int64_t max_message_bytes = int64_t{1} << 30;
  // Most frames in one message (the transport header excluded). Default 64.
  int max_message_frames = 64;
  // How long queued messages may still be delivered after close (see Shutdown above). Default 2 s.
  int linger_ms = 2000;
};

class ZmqPeerTransport final : public PeerTransport {
 public:
  // Binds this rank's endpoint. `peers` must hold ranks 0..N-1 exactly once each, with distinct
  // endpoints; `rank` one of them. InvalidArgument naming the bad entry, option or key;
  // Unavailable when the endpoint cannot be bound.
  static StatusOr<std::unique_ptr<ZmqPeerTransport>> create(int rank, std::vector<PeerInfo> peers,
                                                            const ZmqPeerOptions& options = {});
  ~ZmqPeerTransport() override;

  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(peers_.size()); }
  Status send(int to_rank, Frames frames) override;
  StatusOr<Frames> receive(int from_rank, std::chrono::milliseconds timeout) override;
  PeerTraffic traffic() const override { return traffic_; }

  // The endpoint actually bound (a tcp wildcard port resolved).
  std::string endpoint() const;

  static constexpr size_t kHeaderBytes = 16;

 private:
  ZmqPeerTransport(int rank, std::vector<PeerInfo> peers, const ZmqPeerOptions& options,
                   std::unique_ptr<ServerChannel> server);
  // Takes one message off the server socket into pending_; an error for a refused or forged one.
  Status pump(std::chrono::milliseconds timeout);
  std::string describe_peer(const std::string& peer_id, const std::string& user_id) const;

  int rank_;
  std::vector<PeerInfo> peers_;  // indexed by rank
  ZmqPeerOptions options_;
  std::unique_ptr<ServerChannel> server_;
  std::vector<std::unique_ptr<ClientChannel>> clients_;  // indexed by rank, connected on first send
  std::vector<uint64_t> next_send_seq_;                  // per destination
  std::vector<uint64_t> next_receive_seq_;               // per source
  std::vector<std::deque<Frames>> pending_;              // per source, header stripped
  std::map<std::string, int> rank_of_peer_id_;           // learned from valid messages
  PeerTraffic traffic_;
};

}  // namespace flotilla
