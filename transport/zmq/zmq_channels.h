// ZeroMQ channels: ROUTER (bind) for the coordinator, DEALER (connect) for clients. Works over
// tcp:// and ipc://; inproc:// endpoints need the shared context (zmq_context.h). Tensor frames
// are sent zero-copy (the socket holds a reference to the tensor until sent) and received
// frames wrap the zmq message without copying.
//
// Security (ZmqSecurity): with CURVE (CurveZMQ, RFC 26) every frame is encrypted and
// authenticated, and the server admits only client keys in its allowlist (checked during the
// handshake by the process-wide ZapAuthenticator); each Incoming then carries the sender's
// allowlist NAME as user_id. Without keys, channels run in the clear and anyone who reaches the
// port can connect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "transport/allowlist.h"
#include "transport/channel.h"
#include "transport/curve_keys.h"

namespace flotilla {

// One struct for both roles; each side reads its fields and ignores the other side's.
struct ZmqSecurity {
  // Server side: CURVE is on when server_secret_key is non-empty; then allowlist is required.
  std::string server_secret_key;
  // Server side: optional (derived from the secret key; must match it if given). Client side: the
  // coordinator's public key; CURVE is on when it is non-empty, and then client_keys is required.
  std::string server_public_key;
  // Server side: the client keys admitted, and the name each one's messages carry (user_id).
  std::shared_ptr<const Allowlist> allowlist;
  // Client side: this client's key pair.
  CurveKeyPair client_keys;
};

struct ZmqOptions {
  // How long close() waits to deliver queued messages (ms); ensures a final Shutdown arrives.
  int linger_ms = 2000;
  // Largest single frame accepted (bytes); -1 = no limit. Bounds what a peer can make us allocate:
  // libzmq drops the connection of a peer that announces a bigger frame, before allocating it.
  int64_t max_frame_bytes = int64_t{1} << 34;
  // Server only: most frames / bytes (sum of frame sizes) in one message; 0 = no limit. A message
  // over either is received part by part and released (never held whole) and handed out as an
  // Incoming whose `refused` says why. libzmq itself queues a multipart message whole before its
  // first part can be read, so what a peer can make the process hold is bounded per frame by
  // max_frame_bytes; these limits keep oversized messages from reaching the caller.
  int max_message_frames = 0;
  int64_t max_message_bytes = 0;
  // Outgoing/incoming queue length in messages; 0 = unlimited, so a burst of round tasks to many
  // logical clients is never dropped.
  int high_water_mark = 0;
  // ZMTP heartbeats (PING/PONG) on each connection: sent every heartbeat_interval_ms; a connection
  // silent for heartbeat_timeout_ms is dropped, and the peer is asked to drop ours after as long
  // (ZMQ_HEARTBEAT_TTL). 0 disables. They find dead peers behind NATs and half-open TCP.
  int heartbeat_interval_ms = 1000;
  int heartbeat_timeout_ms = 10000;
  ZmqSecurity security;
};

// Bytes one frame of `size` bytes occupies on the TCP stream: ZMTP 3 framing (a flags byte, then
// 1 size byte up to 255 bytes of body, else 8), and with CURVE the MESSAGE command that carries it
// ("\x07MESSAGE", 8-byte nonce, 16-byte MAC, 1 flags byte: 33 bytes more body, which also moves
// the switch to the 8-byte size to frames over 222 bytes).
int64_t zmtp_frame_wire_bytes(size_t size, bool curve);
// The sum over `frames`.
int64_t zmtp_wire_bytes(const Frames& frames, bool curve);

// InvalidArgument naming the endpoint or the bad option / key (e.g. "server secret key must be 40
// Z85 characters").
//
// A client channel watches its handshakes: once the coordinator refuses its key, send() and
// receive() fail with PermissionDenied (CURVE on one side only: FailedPrecondition), since libzmq
// then gives up that connection for good. A wrong server public key looks like a network failure
// (the coordinator hangs up); libzmq keeps retrying and the channel logs a warning.
StatusOr<std::unique_ptr<ServerChannel>> bind_server_channel(const std::string& endpoint,
                                                             const ZmqOptions& options = {});
StatusOr<std::unique_ptr<ClientChannel>> connect_client_channel(const std::string& endpoint,
                                                                const ZmqOptions& options = {});

}  // namespace flotilla
