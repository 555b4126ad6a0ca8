// Helpers shared by the transport tests: frames from text, temporary folders, bounded waits.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "transport/allowlist.h"
#include "transport/channel.h"
#include "transport/curve_keys.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla::testing {

inline Frames text_frames(std::initializer_list<std::string> parts) {
  Frames f;
  for (const auto& p : parts) f.push_back(Frame::from_string(p));
  return f;
}

// A fresh folder under $TMPDIR (or /tmp), removed with the object.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base != nullptr ? base : "/tmp") + "/flotilla-transport-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// How long a test waits for a message that should arrive, and how long it waits to show that one
// does not get through.
constexpr auto kArrives = std::chrono::milliseconds(5000);
constexpr auto kNothing = std::chrono::milliseconds(1500);

// The port of a tcp:// endpoint.
inline int port_of(const std::string& endpoint) { return std::stoi(endpoint.substr(endpoint.rfind(':') + 1)); }

// Polls `done` every 10 ms until it holds or `limit` passes; returns its last value.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// One receive; a failed receive fails the test.
inline std::optional<Incoming> receive_within(ServerChannel& server, std::chrono::milliseconds timeout) {
  auto r = server.receive(timeout);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : std::nullopt;
}

inline std::optional<Frames> receive_within(ClientChannel& client, std::chrono::milliseconds timeout) {
  auto r = client.receive(timeout);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : std::nullopt;
}

// A fresh key pair; fails the test when libzmq cannot make one.
inline CurveKeyPair make_keys() {
  auto keys = generate_curve_keypair();
  EXPECT_TRUE(keys.ok()) << keys.status();
  return keys.ok() ? *keys : CurveKeyPair{};
}

// An allowlist giving each (name, keys) any id.
inline std::shared_ptr<const Allowlist> allow(const std::vector<std::pair<std::string, CurveKeyPair>>& clients) {
  auto list = std::make_shared<Allowlist>();
  for (const auto& [name, keys] : clients) list->add({name, keys.public_key, true, {}});
  return list;
}

inline ZmqOptions curve_server_options(const CurveKeyPair& server, std::shared_ptr<const Allowlist> allowlist) {
  ZmqOptions options;
  options.security.server_secret_key = server.secret_key;
  options.security.server_public_key = server.public_key;
  options.security.allowlist = std::move(allowlist);
  return options;
}

inline ZmqOptions curve_client_options(const CurveKeyPair& client, const std::string& server_public_key) {
  ZmqOptions options;
  options.security.server_public_key = server_public_key;
  options.security.client_keys = client;
  return options;
}

}  // namespace flotilla::testing
