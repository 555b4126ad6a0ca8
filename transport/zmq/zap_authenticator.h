// ZapAuthenticator: the ZAP handler (RFC 27) that decides, during each CURVE handshake, whether
// a client key may connect to a server socket. It binds inproc://zeromq.zap.01 in one ZeroMQ
// context and answers libzmq's requests from its own thread, which owns that socket; it is
// stopped through an inproc control socket and joined on destruction.
//
// libzmq allows one ZAP handler per context, and the transport uses one process-wide context
// (zmq_context(), zmq_context.h) so that several server channels can live in one process. So one authenticator
// serves them all: each CURVE server socket gets its own ZAP domain (ZMQ_ZAP_DOMAIN) and registers
// its allowlist under it. A request is accepted ("200", User-Id = the allowlist NAME, which
// libzmq then attaches to every message of that connection as the "User-Id" property) only when
// the mechanism is CURVE, the domain is registered and the client key is in that domain's
// allowlist; anything else gets "400" (unknown keys are logged, at most a few lines per second).
//
// Thread-safety: register_domain, unregister_domain and counts may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "transport/allowlist.h"

namespace flotilla {

class ZapAuthenticator {
 public:
  // Binds the ZAP endpoint in `zmq_context` (a ZeroMQ context handle that outlives the
  // authenticator) and starts the handler thread. FailedPrecondition when that context already has
  // a ZAP handler.
  static StatusOr<std::unique_ptr<ZapAuthenticator>> start(void* zmq_context);

  // The authenticator of the process-wide context (zmq_context(), zmq_context.h), started on the first call. Like
  // that context it is never destroyed (channels may be closed during exit).
  static StatusOr<ZapAuthenticator*> process_wide();

  // Stops the handler thread and joins it.
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  // A ZAP domain no other call in this process returned: "flotilla-server-<n>".
  static std::string unique_domain();

  // Checks handshakes of server sockets whose ZMQ_ZAP_DOMAIN is `domain` against `allowlist`
  // (non-null). AlreadyExists if the domain is registered, InvalidArgument for an empty domain
  // (libzmq does not consult ZAP for it).
  Status register_domain(const std::string& domain, std::shared_ptr<const Allowlist> allowlist);
  // Later handshakes in `domain` are refused; connections already made stay. No-op if absent.
  void unregister_domain(const std::string& domain);

  struct Counts {
    int64_t accepted = 0;
    int64_t refused = 0;  // every refusal ("400" or "500"), logged or not
  };
  Counts counts() const;

 private:
  struct Sockets;  // the libzmq sockets; keeps <zmq.h> out of this header
  ZapAuthenticator();
  void run();
  // The reply to one request: status code, status text and user id.
  struct Decision {
    std::string code;
    std::string text;
    std::string user_id;
  };
  Decision decide(const std::string& domain, const std::string& mechanism, const std::string& credentials,
                  const std::string& address);
  void log_refusal(const std::string& message);

  std::unique_ptr<Sockets> sockets_;
  std::thread thread_;

  mutable std::mutex mutex_;  // guards domains_
  std::map<std::string, std::shared_ptr<const Allowlist>> domains_;
  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> refused_{0};

  // Refusal log rate limit; used by the handler thread only.
  int64_t log_window_start_ms_ = 0;
  int log_lines_in_window_ = 0;
  int64_t log_suppressed_ = 0;
};

}  // namespace flotilla
