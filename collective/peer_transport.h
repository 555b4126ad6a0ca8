// PeerTransport: point-to-point messages between the ranks of a fixed group, the only thing the
// collective algorithms (ring_allreduce.h, gossip.h) need from a network. Kept apart from the
// algorithms (as gloo keeps gloo/allreduce.h apart from gloo/transport/) so each can change alone:
// zmq_peer_transport.h is the ZeroMQ implementation.
//
// Contract: messages from one rank to another arrive in the order sent, each whole or not at all.
// receive(from) returns the next message of `from`; messages from other ranks that arrive while it
// waits are buffered (never dropped) for their own receive(). Failures are Status, never
// exceptions, and every wait is bounded: a silent or dead peer is DeadlineExceeded (or Unavailable
// when the transport knows the peer is gone), and the message names the peer's rank.
//
// Thread-safety: none; one thread owns a transport for its whole life (ZeroMQ sockets are not
// thread-safe, and the per-peer order above needs one reader).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "protocol/frame.h"

namespace flotilla {

// What a rank put on and took off the wire, framing, headers and encryption included (as
// ServerChannel::wire_bytes counts it), so benches report measured traffic, not payload sizes.
struct PeerTraffic {
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  int64_t messages_sent = 0;
  int64_t messages_received = 0;
  std::vector<int64_t> bytes_sent_to;        // indexed by rank; size() entries
  std::vector<int64_t> bytes_received_from;  // indexed by rank; size() entries
};

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;

  // This process's rank in [0, size()).
  virtual int rank() const = 0;
  // The number of ranks in the group.
  virtual int size() const = 0;

  // Queues `frames` (one or more) for `to_rank` (not this rank). Does not wait for delivery.
  // InvalidArgument for a bad rank or an empty message; Unavailable / PermissionDenied when the
  // connection is gone for good (e.g. the peer refused our key).
  virtual Status send(int to_rank, Frames frames) = 0;

  // The next message from `from_rank`, waiting up to `timeout`. DeadlineExceeded naming the rank
  // when none came; DataLoss when its sequence shows a lost message; InvalidArgument when a message
  // over the transport's limits was refused.
  virtual StatusOr<Frames> receive(int from_rank, std::chrono::milliseconds timeout) = 0;

  // Totals since construction.
  virtual PeerTraffic traffic() const = 0;
};

}  // namespace flotilla
