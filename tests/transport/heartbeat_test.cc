// ZMTP heartbeats: a peer that goes silent without closing its connection (here: a relay that
// stops forwarding) is dropped by the server after heartbeat_timeout_ms, so sends to it fail
// instead of queueing forever; without heartbeats the server would wait on the dead TCP stream.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/transport/tcp_proxy.h"
#include "tests/transport/transport_test_util.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using testing::port_of;

using namespace std::chrono_literals;
using testing::eventually;
using testing::receive_within;
using testing::TcpProxy;
using testing::text_frames;

TEST(HeartbeatTest, SilentPeerIsDropped) {
  ZmqOptions server_options;
  server_options.heartbeat_interval_ms = 100;
  server_options.heartbeat_timeout_ms = 500;
  auto server = bind_server_channel("tcp://127.0.0.1:*", server_options);
  ASSERT_TRUE(server.ok()) << server.status();
  TcpProxy proxy(port_of((*server)->endpoint()));
  ASSERT_NE(proxy.port(), 0);
  auto client = connect_client_channel("tcp://127.0.0.1:" + std::to_string(proxy.port()));
  ASSERT_TRUE(client.ok()) << client.status();

  ASSERT_TRUE((*client)->send(text_frames({"hello"})).ok());
  auto in = receive_within(**server, 5000ms);
  ASSERT_TRUE(in.has_value());
  // While the relay forwards, the peer answers PINGs and stays routable.
  ASSERT_TRUE((*server)->send(in->peer, text_frames({"still there?"})).ok());
  ASSERT_TRUE(receive_within(**client, 5000ms).has_value());
  ASSERT_TRUE((*client)->send(text_frames({"yes"})).ok());
  ASSERT_TRUE(receive_within(**server, 5000ms).has_value());

  proxy.set_blackhole(true);
  const bool dropped = eventually([&] { return !(*server)->send(in->peer, text_frames({"ping"})).ok(); }, 10000ms);
  EXPECT_TRUE(dropped) << "the server still routes to a peer that has been silent for 10 s";
}

}  // namespace
}  // namespace flotilla
