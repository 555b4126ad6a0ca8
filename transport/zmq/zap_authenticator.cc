#include "transport/zmq/zap_authenticator.h"

#include <zmq.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "core/log.h"
#include "transport/zmq/zmq_context.h"

namespace flotilla {
namespace {

// The endpoint libzmq sends ZAP requests to (RFC 27).
constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
// At most this many refusal lines per second; the rest are counted and summed up in one line.
constexpr int kRefusalLinesPerSecond = 5;
constexpr size_t kCurveKeyBytes = 32;
// How often the handler wakes without traffic, to log the count of suppressed refusal lines.
constexpr long kIdleWakeMs = 1000;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string zmq_error_text() { return zmq_strerror(zmq_errno()); }

// Owns a raw libzmq socket (the context is given as a raw handle, which cppzmq cannot wrap).
class RawSocket {
 public:
  RawSocket() = default;
  explicit RawSocket(void* handle) : handle_(handle) {}
  RawSocket(RawSocket&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  RawSocket& operator=(RawSocket&& other) noexcept {
    close();
    handle_ = other.handle_;
    other.handle_ = nullptr;
    return *this;
  }
  ~RawSocket() { close(); }
  void close() {
    if (handle_ != nullptr) zmq_close(handle_);
    handle_ = nullptr;
  }
  void* get() const { return handle_; }

 private:
  void* handle_ = nullptr;
};

StatusOr<RawSocket> open_socket(void* context, int type) {
  RawSocket socket(zmq_socket(context, type));
  if (socket.get() == nullptr) return internal_error("cannot create a ZAP socket: " + zmq_error_text());
  int linger = 0;  // nothing queued on these sockets is worth waiting for at close
  zmq_setsockopt(socket.get(), ZMQ_LINGER, &linger, sizeof linger);
  return socket;
}

// Receives every part of one message; false on error (errno from zmq_errno()).
bool receive_parts(void* socket, std::vector<std::string>* parts) {
  parts->clear();
  for (;;) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, socket, 0) < 0) {
      const int error = zmq_errno();
      zmq_msg_close(&msg);
      if (error == EINTR) continue;
      errno = error;
      return false;
    }
    parts->emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    const bool more = zmq_msg_more(&msg);
    zmq_msg_close(&msg);
    if (!more) return true;
  }
}

bool send_parts(void* socket, const std::vector<std::string>& parts) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const int flags = i + 1 < parts.size() ? ZMQ_SNDMORE : 0;
    while (zmq_send(socket, parts[i].data(), parts[i].size(), flags) < 0) {
      if (zmq_errno() != EINTR) return false;
    }
  }
  return true;
}

}  // namespace

struct ZapAuthenticator::Sockets {
  RawSocket handler;      // REP on kZapEndpoint; the handler thread's
  RawSocket control_in;   // PAIR; the handler thread's
  RawSocket control_out;  // PAIR; the stopping thread's (the destructor)
};

ZapAuthenticator::ZapAuthenticator() = default;

StatusOr<std::unique_ptr<ZapAuthenticator>> ZapAuthenticator::start(void* zmq_context) {
  std::unique_ptr<ZapAuthenticator> auth(new ZapAuthenticator());
  auto sockets = std::make_unique<Sockets>();
  ASSIGN_OR_RETURN(sockets->handler, open_socket(zmq_context, ZMQ_REP));
  if (zmq_bind(sockets->handler.get(), kZapEndpoint) != 0) {
    if (zmq_errno() == EADDRINUSE) {
      return failed_precondition_error("this ZeroMQ context already has a ZAP handler (" + std::string(kZapEndpoint) +
                                       " is bound)");
    }
    return internal_error("cannot bind " + std::string(kZapEndpoint) + ": " + zmq_error_text());
  }
  const std::string control = "inproc://flotilla-zap-control-" + std::to_string(reinterpret_cast<uintptr_t>(&*auth));
  ASSIGN_OR_RETURN(sockets->control_in, open_socket(zmq_context, ZMQ_PAIR));
  ASSIGN_OR_RETURN(sockets->control_out, open_socket(zmq_context, ZMQ_PAIR));
  if (zmq_bind(sockets->control_in.get(), control.c_str()) != 0 ||
      zmq_connect(sockets->control_out.get(), control.c_str()) != 0) {
    return internal_error("cannot connect the ZAP handler's control socket: " + zmq_error_text());
  }
  auth->sockets_ = std::move(sockets);
  // Starting the thread is the memory barrier ZeroMQ needs to move the handler's sockets to it.
  auth->thread_ = std::thread([a = auth.get()] { a->run(); });
  return auth;
}

StatusOr<ZapAuthenticator*> ZapAuthenticator::process_wide() {
  static std::mutex mutex;
  static ZapAuthenticator* instance = nullptr;  // never destroyed, like the context
  std::lock_guard<std::mutex> lock(mutex);
  if (instance == nullptr) {
    ASSIGN_OR_RETURN(auto started, start(zmq_context()));
    instance = started.release();
  }
  return instance;
}

ZapAuthenticator::~ZapAuthenticator() {
  if (thread_.joinable()) {
    // Any message stops the loop. Never blocks: the pipe has room, or the loop is already gone.
    while (zmq_send(sockets_->control_out.get(), "", 0, ZMQ_DONTWAIT) < 0 && zmq_errno() == EINTR) {
    }
    thread_.join();
  }
}

std::string ZapAuthenticator::unique_domain() {
  static std::atomic<int64_t> next{1};
  return "flotilla-server-" + std::to_string(next++);
}

Status ZapAuthenticator::register_domain(const std::string& domain, std::shared_ptr<const Allowlist> allowlist) {
  FLOTILLA_CHECK(allowlist != nullptr) << "register_domain without an allowlist";
  if (domain.empty()) return invalid_argument_error("a ZAP domain must not be empty");
  std::lock_guard<std::mutex> lock(mutex_);
  if (!domains_.emplace(domain, std::move(allowlist)).second) {
    return already_exists_error("ZAP domain '" + domain + "' is already registered");
  }
  return Status();
}

void ZapAuthenticator::unregister_domain(const std::string& domain) {
  std::lock_guard<std::mutex> lock(mutex_);
  domains_.erase(domain);
}

ZapAuthenticator::Counts ZapAuthenticator::counts() const { return Counts{accepted_.load(), refused_.load()}; }

ZapAuthenticator::Decision ZapAuthenticator::decide(const std::string& domain, const std::string& mechanism,
                                                    const std::string& credentials, const std::string& address) {
  std::shared_ptr<const Allowlist> allowlist;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = domains_.find(domain);
    if (it != domains_.end()) allowlist = it->second;
  }
  const std::string from = "refused a connection from " + (address.empty() ? std::string("?") : address) + ": ";
  if (allowlist == nullptr) {
    log_refusal(from + "its server socket (ZAP domain '" + domain + "') has no allowlist (closed?)");
    return {"400", "unknown ZAP domain", ""};
  }
  if (mechanism != "CURVE") {
    log_refusal(from + "mechanism " + mechanism + " where CURVE is required");
    return {"400", "CURVE required", ""};
  }
  if (credentials.size() != kCurveKeyBytes) return {"400", "malformed CURVE credentials", ""};
  char z85[41] = {};
  if (zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(credentials.data()), kCurveKeyBytes) == nullptr) {
    return {"500", "cannot encode the client key", ""};
  }
  const AllowedClient* client = allowlist->find_by_key(z85);
  if (client == nullptr) {
    log_refusal(from + "client key " + std::string(z85) + " is not in the allowlist");
    return {"400", "unknown key", ""};
  }
  FLOTILLA_LOG(Debug) << "authenticated '" << client->name << "' from " << address;
  return {"200", "OK", client->name};
}

void ZapAuthenticator::log_refusal(const std::string& message) {
  const int64_t now = now_ms();
  if (now - log_window_start_ms_ >= 1000) {
    if (log_suppressed_ > 0) {
      FLOTILLA_LOG(Warning) << log_suppressed_ << " more refused connections were not logged";
    }
    log_window_start_ms_ = now;
    log_lines_in_window_ = 0;
    log_suppressed_ = 0;
  }
  if (message.empty()) return;  // a flush only
  if (log_lines_in_window_ < kRefusalLinesPerSecond) {
    ++log_lines_in_window_;
    FLOTILLA_LOG(Warning) << message;
  } else {
    ++log_suppressed_;
  }
}

void ZapAuthenticator::run() {
  void* handler = sockets_->handler.get();
  zmq_pollitem_t items[] = {{handler, 0, ZMQ_POLLIN, 0}, {sockets_->control_in.get(), 0, ZMQ_POLLIN, 0}};
  std::vector<std::string> request;
  // Errors other than ETERM do not end the loop: without a handler, libzmq would let every CURVE
  // client in (unless ZMQ_ZAP_ENFORCE_DOMAIN took), so the handler stays up as long as it can.
  for (;;) {
    if (zmq_poll(items, 2, kIdleWakeMs) < 0) {
      if (zmq_errno() == ETERM) break;
      if (zmq_errno() != EINTR) FLOTILLA_LOG(Error) << "ZAP handler: poll failed: " << zmq_error_text();
      continue;
    }
    log_refusal("");  // logs the suppressed count once its second has passed
    if (items[1].revents & ZMQ_POLLIN) break;
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    if (!receive_parts(handler, &request)) {
      if (zmq_errno() == ETERM) break;
      FLOTILLA_LOG(Error) << "ZAP handler: receive failed: " << zmq_error_text();
      continue;
    }
    // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials...
    const std::string request_id = request.size() > 1 ? request[1] : "";
    Decision decision;
    if (request.size() < 6 || request[0] != "1.0") {
      decision = {"500", "malformed ZAP request", ""};
    } else {
      decision = decide(request[2], request[5], request.size() > 6 ? request[6] : "", request[3]);
    }
    (decision.code == "200" ? accepted_ : refused_)++;
    if (!send_parts(handler, {"1.0", request_id, decision.code, decision.text, decision.user_id, ""})) {
      if (zmq_errno() == ETERM) break;
      FLOTILLA_LOG(Error) << "ZAP handler: reply failed: " << zmq_error_text();
    }
  }
  // This thread owns these two sockets: close them here, not from the destructor's thread.
  sockets_->handler.close();
  sockets_->control_in.close();
}

}  // namespace flotilla
