// Channels move multipart messages (Frames) between the coordinator and its clients.
// ServerChannel: one endpoint, many peers, each known by an opaque peer id (ZeroMQ ROUTER).
// ClientChannel: one connection to the server (ZeroMQ DEALER).
//
// Thread-safety: none. One thread owns a channel for its whole life (ZeroMQ sockets are not
// thread-safe). Errors from the transport become Status; nothing throws.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/status.h"
#include "protocol/frame.h"

namespace flotilla {

// A message from one peer.
struct Incoming {
  std::string peer;     // opaque id, valid as the target of ServerChannel::send
  std::string user_id;  // authenticated identity of the sender; empty without authentication
  Frames frames;
};

class ServerChannel {
 public:
  virtual ~ServerChannel() = default;
  // Unavailable if the peer is unknown or gone.
  virtual Status send(const std::string& peer, const Frames& frames) = 0;
  // Waits up to `timeout` for one message; nullopt when none came.
  virtual StatusOr<std::optional<Incoming>> receive(std::chrono::milliseconds timeout) = 0;
  // The endpoint actually bound (a wildcard port resolved), e.g. "tcp://127.0.0.1:41235".
  virtual std::string endpoint() const = 0;
};

class ClientChannel {
 public:
  virtual ~ClientChannel() = default;
  virtual Status send(const Frames& frames) = 0;
  virtual StatusOr<std::optional<Frames>> receive(std::chrono::milliseconds timeout) = 0;
};

}  // namespace flotilla
