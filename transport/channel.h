// Channels move multipart messages (Frames) between the coordinator and its clients.
// ServerChannel: one endpoint, many peers, each known by an opaque peer id (ZeroMQ ROUTER).
// ClientChannel: one connection to the server (ZeroMQ DEALER).
//
// Thread-safety: none. One thread owns a channel for its whole life (ZeroMQ sockets are not
// thread-safe). Errors from the transport become Status; nothing throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "protocol/frame.h"

namespace flotilla {

// A message from one peer.
struct Incoming {
  std::string peer;  // opaque id, valid as the target of ServerChannel::send
  Frames frames;     // empty when refused
  // The sender's authenticated identity: with CURVE, its allowlist NAME (ZAP User-Id); empty when
  // the channel runs without authentication. The same for every message of one connection.
  std::string user_id;
  // Bytes the message took on the wire, framing and encryption included (see wire_bytes()); for a
  // refused message, all it sent.
  int64_t wire_bytes = 0;
  // Not OK when the transport discarded the message (too many frames, too many bytes: the
  // channel's limits); `frames` is then empty, `peer` and `user_id` are set, so the receiver can
  // log and count it.
  Status refused;
};

class ServerChannel {
 public:
  virtual ~ServerChannel() = default;
  // Unavailable if the peer is unknown or gone.
  virtual Status send(const std::string& peer, const Frames& frames) = 0;
  // Waits up to `timeout` for one message; nullopt when none came. Errors are local failures
  // only: what a peer sends (or fails to) never makes this fail; see Incoming::refused.
  virtual StatusOr<std::optional<Incoming>> receive(std::chrono::milliseconds timeout) = 0;
  // The endpoint actually bound (a wildcard port resolved), e.g. "tcp://127.0.0.1:41235".
  virtual std::string endpoint() const = 0;
  // Bytes `frames` take on the wire as one message, framing and encryption included (the peer
  // id is local, not sent). Sender and receiver count the same; traffic metrics use it. Over
  // inproc://, which has no byte stream, it is what TCP would carry.
  virtual int64_t wire_bytes(const Frames& frames) const = 0;
};

class ClientChannel {
 public:
  virtual ~ClientChannel() = default;
  virtual Status send(const Frames& frames) = 0;
  virtual StatusOr<std::optional<Frames>> receive(std::chrono::milliseconds timeout) = 0;
  // As ServerChannel::wire_bytes, for messages in either direction.
  virtual int64_t wire_bytes(const Frames& frames) const = 0;
};

}  // namespace flotilla
