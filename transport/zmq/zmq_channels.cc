#include "transport/zmq/zmq_channels.h"

#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>
#include <zmq.hpp>

#include "core/log.h"
#include "transport/zmq/zap_authenticator.h"
#include "transport/zmq/zmq_context.h"

namespace flotilla {
namespace {

// ZMQ_ZAP_ENFORCE_DOMAIN is a draft option in libzmq 4.3 (zmq_draft.h); where the library has it,
// a CURVE server refuses connections when no ZAP handler answers instead of letting every key in.
constexpr int kZapEnforceDomainOption = 93;
// ZMQ_HEARTBEAT_TTL travels in deciseconds in a 16-bit field.
constexpr int kMaxHeartbeatTtlMs = 6553599;

Status zmq_status(const zmq::error_t& e, const std::string& what) { return unavailable_error(what + ": " + e.what()); }

Status check_options(const ZmqOptions& options) {
  if (options.max_message_frames < 0) return invalid_argument_error("max_message_frames must be >= 0 (0 = no limit)");
  if (options.max_message_bytes < 0) return invalid_argument_error("max_message_bytes must be >= 0 (0 = no limit)");
  if (options.heartbeat_interval_ms < 0 || options.heartbeat_timeout_ms < 0) {
    return invalid_argument_error("heartbeat_interval_ms and heartbeat_timeout_ms must be >= 0 (0 = off)");
  }
  if (options.heartbeat_timeout_ms > kMaxHeartbeatTtlMs) {
    return invalid_argument_error("heartbeat_timeout_ms must be at most " + std::to_string(kMaxHeartbeatTtlMs));
  }
  return Status();
}

void apply_options(zmq::socket_t& socket, const ZmqOptions& options) {
  socket.set(zmq::sockopt::linger, options.linger_ms);
  socket.set(zmq::sockopt::maxmsgsize, options.max_frame_bytes);
  socket.set(zmq::sockopt::sndhwm, options.high_water_mark);
  socket.set(zmq::sockopt::rcvhwm, options.high_water_mark);
  if (options.heartbeat_interval_ms > 0) {
    socket.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_interval_ms);
    if (options.heartbeat_timeout_ms > 0) {
      socket.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
      socket.set(zmq::sockopt::heartbeat_ttl, options.heartbeat_timeout_ms);
    }
  }
}

// Sends frames zero-copy: each zmq message holds a reference to its frame's owner until ZeroMQ
// has sent it. With `dontwait_first`, returns false (nothing sent) when the socket cannot take the
// message now; once the first part is taken, the rest of the message always is.
bool send_frames(zmq::socket_t& socket, const Frames& frames, bool dontwait_first = false) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    auto* keep = new std::shared_ptr<const void>(f.owner());
    zmq::message_t m(
        const_cast<void*>(f.data()), f.size(),
        [](void*, void* hint) { delete static_cast<std::shared_ptr<const void>*>(hint); }, keep);
    const bool last = i + 1 == frames.size();
    auto flags = last ? zmq::send_flags::none : zmq::send_flags::sndmore;
    if (i == 0 && dontwait_first) flags = flags | zmq::send_flags::dontwait;
    if (!socket.send(m, flags)) return false;  // EAGAIN; `m` still owns the frame and releases it
  }
  return true;
}

// Receives one part, retrying when a signal interrupts the call: giving up midway would leave the
// rest of the message to be read as the start of the next one.
void receive_part(zmq::socket_t& socket, zmq::message_t& part) {
  for (;;) {
    try {
      (void)socket.recv(part, zmq::recv_flags::none);
      return;
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }
}

Frame wrap(zmq::message_t m) {
  auto owned = std::make_shared<zmq::message_t>(std::move(m));
  const void* data = owned->data();
  const size_t size = owned->size();
  return Frame::from_owner(std::move(owned), data, size);
}

// Reads the remaining parts of a multipart message whose first part is `first`.
Frames receive_rest(zmq::socket_t& socket, zmq::message_t first) {
  Frames frames;
  bool more = first.more();
  frames.push_back(wrap(std::move(first)));
  while (more) {
    zmq::message_t part;
    receive_part(socket, part);  // parts of a message arrive together
    more = part.more();
    frames.push_back(wrap(std::move(part)));
  }
  return frames;
}

// The ZAP User-Id of the connection a message came on; empty without authentication.
std::string user_id_of(zmq::message_t& part) {
  const char* value = zmq_msg_gets(part.handle(), "User-Id");
  return value == nullptr ? std::string() : std::string(value);
}

// False on timeout, and when a signal interrupted the wait: callers check their stop flag and
// poll again, so Ctrl-C ends a run cleanly instead of failing a receive.
bool poll_items(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout) {
  try {
    return zmq::poll(items, count, timeout) > 0;
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
}

bool poll_in(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  return poll_items(&item, 1, timeout) && (item.revents & ZMQ_POLLIN);
}

class ZmqServerChannel final : public ServerChannel {
 public:
  ZmqServerChannel(zmq::socket_t socket, const ZmqOptions& options, ZapAuthenticator* authenticator,
                   std::string zap_domain)
      : socket_(std::move(socket)),
        curve_(authenticator != nullptr),
        max_frames_(options.max_message_frames),
        max_bytes_(options.max_message_bytes),
        authenticator_(authenticator),
        zap_domain_(std::move(zap_domain)) {
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }

  ~ZmqServerChannel() override {
    if (authenticator_ != nullptr) authenticator_->unregister_domain(zap_domain_);
  }

  Status send(const std::string& peer, const Frames& frames) override {
    if (frames.empty()) return invalid_argument_error("cannot send an empty message");
    try {
      socket_.send(zmq::buffer(peer), zmq::send_flags::sndmore);
      (void)send_frames(socket_, frames);  // blocks at most for the unlimited queue: never
      return Status();
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "send to peer failed");
    }
  }

  StatusOr<std::optional<Incoming>> receive(std::chrono::milliseconds timeout) override {
    try {
      if (!poll_in(socket_, timeout)) return std::optional<Incoming>();
      zmq::message_t identity;
      receive_part(socket_, identity);
      if (!identity.more()) return internal_error("ROUTER gave a peer id without a message");
      Incoming in;
      in.peer = identity.to_string();
      int64_t count = 0;
      int64_t bytes = 0;
      bool over = false;
      // Parts are taken one at a time; once the message is over a limit, they are released as they
      // come (and those held dropped), so a refused message never sits in memory whole.
      for (bool more = true; more;) {
        zmq::message_t part;
        receive_part(socket_, part);
        more = part.more();
        if (count == 0) in.user_id = user_id_of(part);
        ++count;
        bytes += static_cast<int64_t>(part.size());
        in.wire_bytes += zmtp_frame_wire_bytes(part.size(), curve_);
        if (!over && ((max_frames_ > 0 && count > max_frames_) || (max_bytes_ > 0 && bytes > max_bytes_))) {
          over = true;
          in.frames.clear();
        }
        if (!over) in.frames.push_back(wrap(std::move(part)));
      }
      if (over) in.refused = refusal(count, bytes);
      return std::optional<Incoming>(std::move(in));
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "receive failed");
    }
  }

  std::string endpoint() const override { return endpoint_; }

  int64_t wire_bytes(const Frames& frames) const override { return zmtp_wire_bytes(frames, curve_); }

 private:
  Status refusal(int64_t count, int64_t bytes) const {
    std::string why;
    if (max_frames_ > 0 && count > max_frames_) {
      why = std::to_string(count) + " frames, over max_message_frames (" + std::to_string(max_frames_) + ")";
    }
    if (max_bytes_ > 0 && bytes > max_bytes_) {
      why += (why.empty() ? "" : "; ") + std::to_string(bytes) + " bytes, over max_message_bytes (" +
             std::to_string(max_bytes_) + ")";
    }
    return out_of_range_error("message refused: " + why);
  }

  zmq::socket_t socket_;
  std::string endpoint_;
  const bool curve_;
  const int64_t max_frames_;
  const int64_t max_bytes_;
  ZapAuthenticator* const authenticator_;  // process-wide, never destroyed; null without CURVE
  const std::string zap_domain_;
};

// Watches a client socket's handshakes (a libzmq socket monitor) so that a refusal becomes an
// error the client can report, instead of a silence that only a timeout ends: libzmq does not
// reconnect after the server refuses the key or the mechanism, and drops the connection's queue.
class HandshakeWatch {
 public:
  // Starts monitoring `socket`; call before it connects, so that no event is missed.
  HandshakeWatch(zmq::socket_t& socket, std::string endpoint) : endpoint_(std::move(endpoint)) {
    static std::atomic<int64_t> next{1};
    const std::string address = "inproc://flotilla-handshake-" + std::to_string(next++);
    const int events =
        ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(socket.handle(), address.c_str(), events) != 0) throw zmq::error_t();
    monitor_ = zmq::socket_t(shared_zmq_context(), zmq::socket_type::pair);
    monitor_.set(zmq::sockopt::linger, 0);
    monitor_.connect(address);
  }

  void* handle() { return monitor_.handle(); }

  // Reads the events that have arrived; returns the error that ended the connection for good, if any.
  Status poll_events() {
    for (;;) {
      zmq::message_t header, address;
      if (!monitor_.recv(header, zmq::recv_flags::dontwait)) break;
      if (header.more()) (void)monitor_.recv(address, zmq::recv_flags::none);
      if (header.size() < 6) continue;
      uint16_t event = 0;
      uint32_t value = 0;
      std::memcpy(&event, header.data(), sizeof event);
      std::memcpy(&value, static_cast<const char*>(header.data()) + 2, sizeof value);
      on_event(event, value);
    }
    return fatal_;
  }

 private:
  void on_event(uint16_t event, uint32_t value) {
    const std::string who = "the coordinator at " + endpoint_;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      fatal_ = permission_denied_error(who + " refused this client's key (ZAP status " + std::to_string(value) +
                                       "): is its public key in the coordinator's allowlist?");
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
      fatal_ =
          failed_precondition_error("security mismatch with " + who + ": one side uses CURVE and the other does not");
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
      char code[16];
      std::snprintf(code, sizeof code, "0x%08x", value);
      fatal_ = unavailable_error("handshake with " + who + " failed (ZMTP protocol error " + code + ")");
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
      // libzmq retries these. With CURVE, the usual cause is a wrong server public key: the server
      // cannot open our HELLO and hangs up. Said once, then every 100th time.
      if (no_detail_failures_++ % 100 == 0) {
        FLOTILLA_LOG(Warning) << "handshake with " << who << " failed (" << zmq_strerror(static_cast<int>(value))
                              << "; " << no_detail_failures_ << " so far); retrying. With CURVE: is the server "
                              << "public key this client was given the coordinator's?";
      }
    }
  }

  std::string endpoint_;
  zmq::socket_t monitor_;  // PAIR receiving the monitored socket's events
  Status fatal_;
  int64_t no_detail_failures_ = 0;
};

class ZmqClientChannel final : public ClientChannel {
 public:
  ZmqClientChannel(zmq::socket_t socket, std::unique_ptr<HandshakeWatch> watch, bool curve)
      : socket_(std::move(socket)), watch_(std::move(watch)), curve_(curve) {}

  ~ZmqClientChannel() override {
    (void)zmq_socket_monitor(socket_.handle(), nullptr, 0);  // stop before the PAIR goes
    watch_.reset();
  }

  Status send(const Frames& frames) override {
    if (frames.empty()) return invalid_argument_error("cannot send an empty message");
    try {
      RETURN_IF_ERROR(watch_->poll_events());
      // Never blocks: with no queue limit, a DEALER refuses a message only when it has no
      // connection left to queue it on, which happens when the handshake failed for good.
      if (!send_frames(socket_, frames, /*dontwait_first=*/true)) {
        RETURN_IF_ERROR(watch_->poll_events());
        return unavailable_error("the connection to the coordinator is closed for good (refused in the handshake?)");
      }
      return Status();
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "send to coordinator failed");
    }
  }

  StatusOr<std::optional<Frames>> receive(std::chrono::milliseconds timeout) override {
    try {
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      for (;;) {
        RETURN_IF_ERROR(watch_->poll_events());
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {watch_->handle(), 0, ZMQ_POLLIN, 0}};
        if (!poll_items(items, 2, std::max(left, std::chrono::milliseconds(0)))) return std::optional<Frames>();
        if (items[0].revents & ZMQ_POLLIN) {
          zmq::message_t first;
          receive_part(socket_, first);
          return std::optional<Frames>(receive_rest(socket_, std::move(first)));
        }
        // Only a handshake event: read it at the top, then wait out the rest of the timeout.
      }
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "receive failed");
    }
  }

  int64_t wire_bytes(const Frames& frames) const override { return zmtp_wire_bytes(frames, curve_); }

 private:
  zmq::socket_t socket_;
  std::unique_ptr<HandshakeWatch> watch_;
  const bool curve_;
};

// The server's CURVE settings checked: its key pair (public key derived when not given).
StatusOr<CurveKeyPair> server_keys(const ZmqSecurity& security) {
  ASSIGN_OR_RETURN(CurveKeyPair keys, curve_keypair_from_secret(security.server_secret_key, "server secret key"));
  if (!security.server_public_key.empty() && security.server_public_key != keys.public_key) {
    RETURN_IF_ERROR(check_curve_key(security.server_public_key, "server public key"));
    return invalid_argument_error("server public key does not match the server secret key");
  }
  if (security.allowlist == nullptr) {
    return invalid_argument_error("a CURVE server (server secret key given) needs an allowlist of client keys");
  }
  return keys;
}

// Registers the allowlist under a fresh ZAP domain and turns CURVE on for `socket`.
StatusOr<std::string> enable_curve_server(zmq::socket_t& socket, const CurveKeyPair& keys,
                                          std::shared_ptr<const Allowlist> allowlist, ZapAuthenticator* auth) {
  const std::string domain = ZapAuthenticator::unique_domain();
  RETURN_IF_ERROR(auth->register_domain(domain, std::move(allowlist)));
  try {
    socket.set(zmq::sockopt::curve_server, true);
    socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    socket.set(zmq::sockopt::zap_domain, domain);
  } catch (const zmq::error_t& e) {
    auth->unregister_domain(domain);
    return invalid_argument_error(std::string("cannot enable CURVE on the server socket: ") + e.what());
  }
  const int enforce = 1;
  (void)zmq_setsockopt(socket.handle(), kZapEnforceDomainOption, &enforce, sizeof enforce);  // EINVAL where absent
  return domain;
}

}  // namespace

int64_t zmtp_frame_wire_bytes(size_t size, bool curve) {
  // CurveZMQ MESSAGE command body: "\x07MESSAGE" (8) + nonce (8) + MAC (16) + flags (1) + data.
  constexpr size_t kCurveMessageOverhead = 8 + 8 + 16 + 1;
  const size_t body = curve ? size + kCurveMessageOverhead : size;
  // ZMTP 3 frame header: flags byte, then the size in 1 byte (body <= 255) or 8.
  const size_t header = body <= 255 ? 2 : 9;
  return static_cast<int64_t>(header + body);
}

int64_t zmtp_wire_bytes(const Frames& frames, bool curve) {
  int64_t total = 0;
  for (const Frame& f : frames) total += zmtp_frame_wire_bytes(f.size(), curve);
  return total;
}

StatusOr<std::unique_ptr<ServerChannel>> bind_server_channel(const std::string& endpoint, const ZmqOptions& options) {
  RETURN_IF_ERROR(check_options(options));
  const ZmqSecurity& security = options.security;
  const bool curve = !security.server_secret_key.empty();
  if (!curve && security.allowlist != nullptr) {
    return invalid_argument_error("an allowlist without a server secret key would not be enforced: CURVE is off");
  }
  if (!curve && !security.server_public_key.empty()) {
    return invalid_argument_error("a server public key without its secret key: CURVE needs the server secret key");
  }
  CurveKeyPair keys;
  ZapAuthenticator* auth = nullptr;
  if (curve) {
    ASSIGN_OR_RETURN(keys, server_keys(security));
    ASSIGN_OR_RETURN(auth, ZapAuthenticator::process_wide());
  }
  std::string domain;
  try {
    zmq::socket_t socket(shared_zmq_context(), zmq::socket_type::router);
    apply_options(socket, options);
    // Sending to an unknown or departed peer is an error (EHOSTUNREACH), not a silent drop.
    socket.set(zmq::sockopt::router_mandatory, 1);
    if (curve) {
      ASSIGN_OR_RETURN(domain, enable_curve_server(socket, keys, security.allowlist, auth));
    }
    socket.bind(endpoint);
    return std::unique_ptr<ServerChannel>(new ZmqServerChannel(std::move(socket), options, auth, domain));
  } catch (const zmq::error_t& e) {
    if (auth != nullptr && !domain.empty()) auth->unregister_domain(domain);
    return invalid_argument_error("cannot bind '" + endpoint + "': " + e.what());
  }
}

StatusOr<std::unique_ptr<ClientChannel>> connect_client_channel(const std::string& endpoint,
                                                                const ZmqOptions& options) {
  RETURN_IF_ERROR(check_options(options));
  const ZmqSecurity& security = options.security;
  const bool curve = !security.server_public_key.empty();
  const CurveKeyPair& keys = security.client_keys;
  if (curve) {
    RETURN_IF_ERROR(check_curve_key(security.server_public_key, "server public key"));
    if (keys.public_key.empty() || keys.secret_key.empty()) {
      return invalid_argument_error("a CURVE client (server public key given) needs its own key pair");
    }
    RETURN_IF_ERROR(check_curve_key_pair(keys, "client key pair"));
  } else if (!keys.public_key.empty() || !keys.secret_key.empty()) {
    return invalid_argument_error("a client key pair without the server's public key: CURVE needs both");
  }
  try {
    zmq::socket_t socket(shared_zmq_context(), zmq::socket_type::dealer);
    apply_options(socket, options);
    if (curve) {
      socket.set(zmq::sockopt::curve_serverkey, security.server_public_key);
      socket.set(zmq::sockopt::curve_publickey, keys.public_key);
      socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    }
    auto watch = std::make_unique<HandshakeWatch>(socket, endpoint);
    socket.connect(endpoint);
    return std::unique_ptr<ClientChannel>(new ZmqClientChannel(std::move(socket), std::move(watch), curve));
  } catch (const zmq::error_t& e) {
    return invalid_argument_error("cannot connect to '" + endpoint + "': " + e.what());
  }
}

}  // namespace flotilla
