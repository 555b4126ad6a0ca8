// ZeroMQ channels: ROUTER (bind) for the coordinator, DEALER (connect) for clients. Works over
// tcp:// and ipc://; inproc:// endpoints need a shared context (zmq_context()). Tensor frames
// are sent zero-copy (the socket holds a reference to the tensor until sent) and received
// frames wrap the zmq message without copying.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "transport/channel.h"

namespace flotilla {

struct ZmqOptions {
  // How long close() waits to deliver queued messages (ms); ensures a final Shutdown arrives.
  int linger_ms = 2000;
  // Largest single frame accepted (bytes); -1 = no limit. Bounds what a peer can make us allocate.
  int64_t max_frame_bytes = int64_t{1} << 34;
  // Outgoing/incoming queue length in messages; 0 = unlimited, so a burst of round tasks to many
  // logical clients is never dropped.
  int high_water_mark = 0;
};

// The process-wide context; inproc:// endpoints only work between sockets of one context.
void* zmq_context();

StatusOr<std::unique_ptr<ServerChannel>> bind_server_channel(const std::string& endpoint,
                                                             const ZmqOptions& options = {});
StatusOr<std::unique_ptr<ClientChannel>> connect_client_channel(const std::string& endpoint,
                                                                const ZmqOptions& options = {});

}  // namespace flotilla
