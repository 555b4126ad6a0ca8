// One suite for the channel contract, run over every transport ZeroMQ gives us here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "tests/transport/transport_test_util.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using testing::receive_within;
using testing::text_frames;

// One transport: where to bind, and with CURVE, the keys on both sides (every client holds the
// one allowed key, "client").
struct Transport {
  std::string name;
  std::string endpoint;
  bool curve = false;
};

void PrintTo(const Transport& t, std::ostream* os) { *os << t.name; }

class ChannelTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    if (GetParam().curve) {
      const CurveKeyPair server = testing::make_keys(), client = testing::make_keys();
      server_options_ = testing::curve_server_options(server, testing::allow({{"client", client}}));
      client_options_ = testing::curve_client_options(client, server.public_key);
    }
  }
  // An inproc name gets a suffix per bind: ZeroMQ releases a closed socket's name asynchronously,
  // so the next test binding the same name could find it still taken.
  StatusOr<std::unique_ptr<ServerChannel>> bind() {
    static int binds = 0;
    std::string endpoint = GetParam().endpoint;
    if (endpoint.rfind("inproc://", 0) == 0) endpoint += "-" + std::to_string(++binds);
    return bind_server_channel(endpoint, server_options_);
  }
  StatusOr<std::unique_ptr<ClientChannel>> connect(const std::string& endpoint) {
    return connect_client_channel(endpoint, client_options_);
  }
  std::string expected_user() const { return GetParam().curve ? "client" : ""; }

  ZmqOptions server_options_, client_options_;
};

TEST_P(ChannelTest, RoundTripsMultipartBothWays) {
  auto server = bind();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string endpoint = (*server)->endpoint();
  EXPECT_EQ(endpoint.find('*'), std::string::npos) << "wildcard port must be resolved: " << endpoint;
  auto client = connect(endpoint);
  ASSERT_TRUE(client.ok()) << client.status();

  ASSERT_TRUE((*client)->send(text_frames({"hello", std::string(100000, 'x'), ""})).ok());
  auto in = receive_within(**server, 5000ms);
  ASSERT_TRUE(in.has_value());
  ASSERT_EQ(in->frames.size(), 3u);
  EXPECT_EQ(in->frames[0].view(), "hello");
  EXPECT_EQ(in->frames[1].size(), 100000u);
  EXPECT_EQ(in->frames[2].size(), 0u);
  EXPECT_EQ(in->user_id, expected_user());
  EXPECT_TRUE(in->refused.ok());
  EXPECT_EQ(in->wire_bytes, (*server)->wire_bytes(in->frames));

  ASSERT_TRUE((*server)->send(in->peer, text_frames({"reply", "two"})).ok());
  auto back = (*client)->receive(5000ms);
  ASSERT_TRUE(back.ok() && back->has_value());
  ASSERT_EQ((*back)->size(), 2u);
  EXPECT_EQ((**back)[1].view(), "two");
}

TEST_P(ChannelTest, ReceiveTimesOutWithNothing) {
  auto server = bind();
  ASSERT_TRUE(server.ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = (*server)->receive(50ms);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
}

TEST_P(ChannelTest, SendingToUnknownPeerIsAnError) {
  auto server = bind();
  ASSERT_TRUE(server.ok());
  Status s = (*server)->send("no-such-peer", text_frames({"x"}));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST_P(ChannelTest, ManyClientsAreToldApart) {
  auto server = bind();
  ASSERT_TRUE(server.ok());
  std::vector<std::unique_ptr<ClientChannel>> clients;
  for (int i = 0; i < 5; ++i) {
    auto c = connect((*server)->endpoint());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->send(text_frames({std::to_string(i)})).ok());
    clients.push_back(std::move(*c));
  }
  std::map<std::string, std::string> peer_of;  // payload -> peer
  for (int i = 0; i < 5; ++i) {
    auto in = receive_within(**server, 5000ms);
    ASSERT_TRUE(in.has_value());
    peer_of[std::string(in->frames[0].view())] = in->peer;
  }
  ASSERT_EQ(peer_of.size(), 5u);
  for (const auto& [payload, peer] : peer_of) ASSERT_TRUE((*server)->send(peer, text_frames({payload})).ok());
  for (int i = 0; i < 5; ++i) {
    auto back = clients[i]->receive(5000ms);
    ASSERT_TRUE(back.ok() && back->has_value());
    EXPECT_EQ((**back)[0].view(), std::to_string(i)) << "reply reached the wrong client";
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, ChannelTest,
                         ::testing::Values(Transport{"inproc", "inproc://channel-test-" + std::to_string(::getpid())},
                                           Transport{"tcp", "tcp://127.0.0.1:*"},
                                           Transport{"tcp_curve", "tcp://127.0.0.1:*", true}),
                         [](const auto& param) { return param.param.name; });

TEST(ChannelErrors, BadEndpointsAreNamed) {
  auto s = bind_server_channel("nonsense://x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("nonsense://x"), std::string::npos);
  auto c = connect_client_channel("tcp://");
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace flotilla
