#include "transport/zmq/zmq_channels.h"

#include <cerrno>
#include <vector>
#include <zmq.hpp>

namespace flotilla {
namespace {

zmq::context_t& context() {
  static zmq::context_t* ctx = new zmq::context_t(1);  // never destroyed: sockets may outlive main
  return *ctx;
}

Status zmq_status(const zmq::error_t& e, const std::string& what) { return unavailable_error(what + ": " + e.what()); }

void apply_options(zmq::socket_t& socket, const ZmqOptions& options) {
  socket.set(zmq::sockopt::linger, options.linger_ms);
  socket.set(zmq::sockopt::maxmsgsize, options.max_frame_bytes);
  socket.set(zmq::sockopt::sndhwm, options.high_water_mark);
  socket.set(zmq::sockopt::rcvhwm, options.high_water_mark);
}

// Sends frames zero-copy: each zmq message holds a reference to its frame's owner until ZeroMQ
// has sent it.
void send_frames(zmq::socket_t& socket, const Frames& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    auto* keep = new std::shared_ptr<const void>(f.owner());
    zmq::message_t m(
        const_cast<void*>(f.data()), f.size(),
        [](void*, void* hint) { delete static_cast<std::shared_ptr<const void>*>(hint); }, keep);
    const bool last = i + 1 == frames.size();
    socket.send(m, last ? zmq::send_flags::none : zmq::send_flags::sndmore);
  }
}

// Reads the remaining parts of a multipart message whose first part is `first`.
Frames receive_rest(zmq::socket_t& socket, zmq::message_t first) {
  Frames frames;
  bool more = first.more();
  auto wrap = [](zmq::message_t m) {
    auto owned = std::make_shared<zmq::message_t>(std::move(m));
    const void* data = owned->data();
    const size_t size = owned->size();
    return Frame::from_owner(std::move(owned), data, size);
  };
  frames.push_back(wrap(std::move(first)));
  while (more) {
    zmq::message_t part;
    (void)socket.recv(part, zmq::recv_flags::none);  // parts of a message arrive together
    more = part.more();
    frames.push_back(wrap(std::move(part)));
  }
  return frames;
}

// False on timeout, and when a signal interrupted the wait: callers check their stop flag and
// poll again, so Ctrl-C ends a run cleanly instead of failing a receive.
bool poll_in(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  try {
    zmq::poll(&item, 1, timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return false;
    throw;
  }
  return item.revents & ZMQ_POLLIN;
}

class ZmqServerChannel final : public ServerChannel {
 public:
  explicit ZmqServerChannel(zmq::socket_t socket) : socket_(std::move(socket)) {
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }

  Status send(const std::string& peer, const Frames& frames) override {
    if (frames.empty()) return invalid_argument_error("cannot send an empty message");
    try {
      socket_.send(zmq::buffer(peer), zmq::send_flags::sndmore);
      send_frames(socket_, frames);
      return Status();
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "send to peer failed");
    }
  }

  StatusOr<std::optional<Incoming>> receive(std::chrono::milliseconds timeout) override {
    try {
      if (!poll_in(socket_, timeout)) return std::optional<Incoming>();
      zmq::message_t identity;
      (void)socket_.recv(identity, zmq::recv_flags::none);
      if (!identity.more()) return data_loss_error("message without a body from peer");
      zmq::message_t first;
      (void)socket_.recv(first, zmq::recv_flags::none);
      Incoming in;
      in.peer = identity.to_string();
      in.frames = receive_rest(socket_, std::move(first));
      return std::optional<Incoming>(std::move(in));
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "receive failed");
    }
  }

  std::string endpoint() const override { return endpoint_; }

 private:
  zmq::socket_t socket_;
  std::string endpoint_;
};

class ZmqClientChannel final : public ClientChannel {
 public:
  explicit ZmqClientChannel(zmq::socket_t socket) : socket_(std::move(socket)) {}

  Status send(const Frames& frames) override {
    if (frames.empty()) return invalid_argument_error("cannot send an empty message");
    try {
      send_frames(socket_, frames);
      return Status();
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "send to coordinator failed");
    }
  }

  StatusOr<std::optional<Frames>> receive(std::chrono::milliseconds timeout) override {
    try {
      if (!poll_in(socket_, timeout)) return std::optional<Frames>();
      zmq::message_t first;
      (void)socket_.recv(first, zmq::recv_flags::none);
      return std::optional<Frames>(receive_rest(socket_, std::move(first)));
    } catch (const zmq::error_t& e) {
      return zmq_status(e, "receive failed");
    }
  }

 private:
  zmq::socket_t socket_;
};

}  // namespace

void* zmq_context() { return context().handle(); }

StatusOr<std::unique_ptr<ServerChannel>> bind_server_channel(const std::string& endpoint, const ZmqOptions& options) {
  try {
    zmq::socket_t socket(context(), zmq::socket_type::router);
    apply_options(socket, options);
    // Sending to an unknown or departed peer is an error (EHOSTUNREACH), not a silent drop.
    socket.set(zmq::sockopt::router_mandatory, 1);
    socket.bind(endpoint);
    return std::unique_ptr<ServerChannel>(new ZmqServerChannel(std::move(socket)));
  } catch (const zmq::error_t& e) {
    return invalid_argument_error("cannot bind '" + endpoint + "': " + e.what());
  }
}

StatusOr<std::unique_ptr<ClientChannel>> connect_client_channel(const std::string& endpoint,
                                                                const ZmqOptions& options) {
  try {
    zmq::socket_t socket(context(), zmq::socket_type::dealer);
    apply_options(socket, options);
    socket.connect(endpoint);
    return std::unique_ptr<ClientChannel>(new ZmqClientChannel(std::move(socket)));
  } catch (const zmq::error_t& e) {
    return invalid_argument_error("cannot connect to '" + endpoint + "': " + e.what());
  }
}

}  // namespace flotilla
