// A TCP relay for tests: listens on 127.0.0.1 (an ephemeral port), and for each connection it
// accepts (one at a time) connects to 127.0.0.1:target_port and forwards bytes both ways,
// counting them per direction. It can stop forwarding ("blackhole") while keeping both
// connections open, like a peer that vanished without closing. One thread does all the work;
// it polls with a short timeout, so destruction (stop and join) is prompt.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace flotilla::testing {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // 0 when the listening socket could not be set up.
  int port() const { return port_; }
  // Bytes forwarded so far, over all connections.
  int64_t client_to_server() const { return up_.load(); }
  int64_t server_to_client() const { return down_.load(); }
  // While set, nothing is read or forwarded (the kernel buffers fill, then the senders stall).
  void set_blackhole(bool on) { blackhole_ = on; }

 private:
  void run();
  void relay(int client_fd, int server_fd);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> blackhole_{false};
  std::atomic<int64_t> up_{0};
  std::atomic<int64_t> down_{0};
  std::thread thread_;
};

}  // namespace flotilla::testing
