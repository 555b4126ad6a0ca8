#include "coordinator/live_view_server.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "coordinator/coordinator_config.h"
#include "core/digest.h"
#include "core/token_file.h"

namespace flotilla {
namespace {

using HandlerResponse = httplib::Server::HandlerResponse;

constexpr size_t kMinTokenLength = 16;
constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";
// What Prometheus asks for and parses (text exposition format 0.0.4).
constexpr const char* kPrometheus = "text/plain; version=0.0.4; charset=utf-8";
// The page is one file: its script and styles are inline, and it may fetch from here only.
constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const std::set<std::string>& known_paths() {
  static const std::set<std::string> paths = {"/", "/api/state", "/api/rounds", "/metrics", "/healthz"};
  return paths;
}

// Equal tokens, in time that depends on neither: both sides are hashed first, so neither their
// lengths nor where they differ show in the timing.
bool same_token(const std::string& given, const std::string& expected) {
  const std::string a = sha256_hex(given), b = sha256_hex(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The host part of a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:8080" -> "::1".
std::string host_of(const std::string& header) {
  if (!header.empty() && header.front() == '[') return header.substr(1, header.find(']') - 1);
  return header.substr(0, header.rfind(':'));
}

// A non-negative round number in decimal, or -1.
int parse_round(const std::string& text) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return -1;
  return std::stoi(text);
}

void error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(message + "\n", kText);
}

}  // namespace

class LiveViewServer::Impl {
 public:
  Impl(const LiveStatus& status, LiveViewOptions options) : status_(status), options_(std::move(options)) {}

  ~Impl() { stop(); }

  Status start() {
    const int threads = std::max(1, options_.threads);
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    // A keep-alive connection holds a worker: short, so a few idle browsers cannot starve the rest.
    server_.set_keep_alive_max_count(20);
    server_.set_keep_alive_timeout(2);
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
    server_.set_payload_max_length(64 * 1024);  // GETs carry no body
    // httplib's default sets SO_REUSEPORT, with which a second coordinator on the same port would
    // bind too and the kernel would share the connections between the two: only SO_REUSEADDR.
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server_.set_pre_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) { return admit(req, res); });
    server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (res.body.empty()) error(res, res.status, std::to_string(res.status) + ": " + req.path);
    });
    server_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) { error(res, 500, "internal error"); });
    server_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", kPagePolicy);
      const std::string_view page = live_view_page();
      res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
    });
    server_.Get("/api/state", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(status_.state_json(), kJson);
    });
    server_.Get("/api/rounds", [this](const httplib::Request& req, httplib::Response& res) {
      int since = 0;
      if (req.has_param("since")) {
        since = parse_round(req.get_param_value("since"));
        if (since < 0) {
          res.status = 400;
          res.set_content(R"({"error":"since must be a round number >= 0"})", kJson);
          return;
        }
      }
      res.set_content(status_.rounds_json(since), kJson);
    });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(status_.prometheus_text(), kPrometheus);
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", kText); });

    const std::string where = options_.host + ":" + std::to_string(options_.port);
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.host);
    } else {
      port_ = server_.bind_to_port(options_.host, options_.port) ? options_.port : -1;
    }
    if (port_ <= 0)
      return unavailable_error("--live-view: cannot listen on " + where +
                               " (the port is in use, or the host is not an address of this machine)");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() only stops a server that has begun to listen: wait for that before anyone may call it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!server_.is_running()) {
      thread_.join();  // listen_after_bind returned without listening
      return unavailable_error("--live-view: the server on " + where + " did not start");
    }
    return Status();
  }

  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }

  std::string url() const {
    std::string host = options_.host;
    if (host == "0.0.0.0" || host == "::") {
      char name[256] = {};
      host = ::gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "localhost";
    } else if (host.find(':') != std::string::npos) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + std::to_string(port_) + "/";
  }

 private:
  // Before any route: the method, the path and the access rule (see the header).
  HandlerResponse admit(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    if (!known_paths().count(req.path)) {
      error(res, 404,
            "not found: " + req.path + " (the live view serves /, /api/state, /api/rounds, /metrics, /healthz)");
      return HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      error(res, 405, req.method + " is not allowed: the live view is read-only (GET)");
      return HandlerResponse::Handled;
    }
    if (!options_.token.empty()) {
      const std::string authorization = req.get_header_value("Authorization");
      const std::string bearer = "Bearer ";
      std::string given;
      if (authorization.rfind(bearer, 0) == 0)
        given = authorization.substr(bearer.size());
      else if (req.has_param("token"))
        given = req.get_param_value("token");
      if (given.empty() || !same_token(given, options_.token)) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"flotilla live view\"");
        error(res, 401,
              given.empty() ? "this live view needs its token: open it as /?token=TOKEN, or send "
                              "\"Authorization: Bearer TOKEN\" (--live-view-token-file)"
                            : "wrong token");
        return HandlerResponse::Handled;
      }
    } else if (is_loopback_host(options_.host) && !is_loopback_host(host_of(req.get_header_value("Host")))) {
      // A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) sends its name here.
      error(res, 403,
            "the live view on loopback answers requests for loopback names only (Host: " +
                req.get_header_value("Host") + ")");
      return HandlerResponse::Handled;
    }
    return HandlerResponse::Unhandled;
  }

  const LiveStatus& status_;
  LiveViewOptions options_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

LiveViewServer::LiveViewServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LiveViewServer::~LiveViewServer() = default;

StatusOr<std::unique_ptr<LiveViewServer>> LiveViewServer::start(const LiveStatus& status, LiveViewOptions options) {
  auto impl = std::make_unique<Impl>(status, std::move(options));
  RETURN_IF_ERROR(impl->start());
  return std::unique_ptr<LiveViewServer>(new LiveViewServer(std::move(impl)));
}

void LiveViewServer::stop() { impl_->stop(); }
int LiveViewServer::port() const { return impl_->port(); }
std::string LiveViewServer::url() const { return impl_->url(); }

StatusOr<std::string> read_live_view_token(const std::string& path) {
  return read_token_file(path, "--live-view-token-file", kMinTokenLength);
}

}  // namespace flotilla
