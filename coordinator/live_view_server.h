// LiveViewServer: serves a LiveStatus over HTTP (cpp-httplib) on threads of its own, so that
// nothing a browser, a script or Prometheus does runs on the coordinator's round loop.
//
//   GET /             the live page (coordinator/live_view/index.html, built into the binary)
//   GET /api/state    LiveStatus::state_json()
//   GET /api/rounds   ?since=K: LiveStatus::rounds_json(K) (K >= 0; default 0)
//   GET /metrics      Prometheus text (LiveStatus::prometheus_text())
//   GET /healthz      "ok"
// Another path is 404, another method 405, a bad query value 400.
//
// Access: with a token, every request must carry it, as "Authorization: Bearer TOKEN" or
// "?token=TOKEN" (the page keeps the one it was opened with and sends it on), compared in
// constant time; a request without it is 401. Without a token (loopback only, or --insecure) a
// request whose Host header is not this address or a loopback name is refused (403), so that a web
// page elsewhere cannot read the run through DNS rebinding. docs/live_view.md has the rule.
#pragma once

#include <memory>
#include <string>

#include "coordinator/live_status.h"
#include "core/status.h"

namespace flotilla {

struct LiveViewOptions {
  std::string host = "127.0.0.1";  // address to listen on; "0.0.0.0" or "::" for every interface
  int port = 0;                    // 0: any free port
  std::string token;               // empty: none asked for
  int threads = 4;                 // requests served at once (each keep-alive connection holds one)
};

class LiveViewServer {
 public:
  // Binds and starts serving `status` (not owned; it must outlive the server). Unavailable naming
  // the address when it cannot be bound.
  static StatusOr<std::unique_ptr<LiveViewServer>> start(const LiveStatus& status, LiveViewOptions options);
  ~LiveViewServer();  // stop()s
  LiveViewServer(const LiveViewServer&) = delete;
  LiveViewServer& operator=(const LiveViewServer&) = delete;

  // Stops listening, finishes the requests in progress and joins the server's threads.
  void stop();

  int port() const;
  // "http://HOST:PORT/" (the address it listens on; for every interface, this machine's name).
  std::string url() const;

 private:
  class Impl;
  explicit LiveViewServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The page as built into the binary (coordinator/live_view/index.html).
std::string_view live_view_page();

// The token in `path`: its first line, without surrounding white space. InvalidArgument when the
// file cannot be read, or holds no token or one of fewer than 16 characters.
StatusOr<std::string> read_live_view_token(const std::string& path);

}  // namespace flotilla
