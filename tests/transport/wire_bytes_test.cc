// wire_bytes() checked against the TCP stream itself: the client talks to the server through a
// counting relay (TcpProxy), and after the handshake has settled, the bytes that cross the relay
// in each direction must equal the sum of wire_bytes() over the messages sent, exactly, with and
// without CURVE. Heartbeats are off here (their PINGs would add bytes no message accounts for).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>

#include "tests/transport/tcp_proxy.h"
#include "tests/transport/transport_test_util.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using testing::port_of;

using namespace std::chrono_literals;
using testing::allow;
using testing::curve_client_options;
using testing::curve_server_options;
using testing::make_keys;
using testing::receive_within;
using testing::TcpProxy;
using testing::text_frames;

constexpr auto kArrivesThroughProxy = 10000ms;

Frames frames_of_sizes(std::initializer_list<size_t> sizes) {
  Frames f;
  char fill = 'a';
  for (size_t n : sizes) f.push_back(Frame::from_string(std::string(n, fill++)));
  return f;
}

// Messages with frame sizes on each side of every framing switch: 1-byte vs 8-byte sizes at 255/256
// (plain) and 222/223 (CURVE adds 33 bytes), empty frames, and a large one.
std::vector<Frames> test_messages() {
  return {frames_of_sizes({0}),     frames_of_sizes({1}),
          frames_of_sizes({222}),   frames_of_sizes({223}),
          frames_of_sizes({255}),   frames_of_sizes({256}),
          frames_of_sizes({70000}), frames_of_sizes({5, 255, 256, 0, 70000, 222, 223})};
}

class WireBytesTest : public ::testing::TestWithParam<bool> {};

TEST_P(WireBytesTest, MatchesTheBytesOnTheTcpStream) {
  const bool curve = GetParam();
  const CurveKeyPair server_keys = make_keys(), client_keys = make_keys();
  ZmqOptions server_options =
      curve ? curve_server_options(server_keys, allow({{"client", client_keys}})) : ZmqOptions{};
  ZmqOptions client_options = curve ? curve_client_options(client_keys, server_keys.public_key) : ZmqOptions{};
  for (ZmqOptions* o : {&server_options, &client_options}) o->heartbeat_interval_ms = 0;

  auto server = bind_server_channel("tcp://127.0.0.1:*", server_options);
  ASSERT_TRUE(server.ok()) << server.status();
  TcpProxy proxy(port_of((*server)->endpoint()));
  ASSERT_NE(proxy.port(), 0);
  auto client = connect_client_channel("tcp://127.0.0.1:" + std::to_string(proxy.port()), client_options);
  ASSERT_TRUE(client.ok()) << client.status();

  // A first round trip completes the handshake both ways; from here on only messages cross.
  ASSERT_TRUE((*client)->send(text_frames({"hello"})).ok());
  auto hello = receive_within(**server, kArrivesThroughProxy);
  ASSERT_TRUE(hello.has_value());
  const std::string peer = hello->peer;
  ASSERT_TRUE((*server)->send(peer, text_frames({"hello back"})).ok());
  ASSERT_TRUE(receive_within(**client, kArrivesThroughProxy).has_value());
  const int64_t up0 = proxy.client_to_server(), down0 = proxy.server_to_client();

  int64_t expected_up = 0, expected_down = 0, received_up = 0;
  const std::vector<Frames> messages = test_messages();
  for (const Frames& m : messages) {
    ASSERT_TRUE((*client)->send(m).ok());
    expected_up += (*client)->wire_bytes(m);
    auto in = receive_within(**server, kArrivesThroughProxy);
    ASSERT_TRUE(in.has_value());
    ASSERT_EQ(in->frames.size(), m.size());
    received_up += in->wire_bytes;
    EXPECT_EQ(in->wire_bytes, (*server)->wire_bytes(m)) << "receiver and sender count the same";
  }
  for (const Frames& m : messages) {
    ASSERT_TRUE((*server)->send(peer, m).ok());
    expected_down += (*server)->wire_bytes(m);
    auto back = receive_within(**client, kArrivesThroughProxy);
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(back->size(), m.size());
  }
  // Every message has been received, so every byte of it has crossed (and been counted by) the
  // relay; nothing else is in flight. Waiting a moment would only show extra bytes, if any.
  EXPECT_EQ(proxy.client_to_server() - up0, expected_up);
  EXPECT_EQ(proxy.server_to_client() - down0, expected_down);
  EXPECT_EQ(received_up, expected_up);

  // The per-frame cost, as measured on the stream: one small and one large frame alone.
  const int64_t up1 = proxy.client_to_server();
  ASSERT_TRUE((*client)->send(frames_of_sizes({100})).ok());
  ASSERT_TRUE(receive_within(**server, kArrivesThroughProxy).has_value());
  const int64_t small_overhead = proxy.client_to_server() - up1 - 100;
  const int64_t up2 = proxy.client_to_server();
  ASSERT_TRUE((*client)->send(frames_of_sizes({70000})).ok());
  ASSERT_TRUE(receive_within(**server, kArrivesThroughProxy).has_value());
  const int64_t large_overhead = proxy.client_to_server() - up2 - 70000;
  std::cout << (curve ? "CURVE" : "plain") << " per-frame overhead on the wire: " << small_overhead
            << " bytes (100-byte frame), " << large_overhead << " bytes (70000-byte frame)\n";
  EXPECT_EQ(small_overhead, curve ? 35 : 2);
  EXPECT_EQ(large_overhead, curve ? 42 : 9);
}

INSTANTIATE_TEST_SUITE_P(Security, WireBytesTest, ::testing::Values(false, true),
                         [](const auto& param) { return param.param ? std::string("curve") : std::string("plain"); });

TEST(WireBytesFormulaTest, FramingSwitches) {
  EXPECT_EQ(zmtp_frame_wire_bytes(0, false), 2);
  EXPECT_EQ(zmtp_frame_wire_bytes(255, false), 257);
  EXPECT_EQ(zmtp_frame_wire_bytes(256, false), 265);
  EXPECT_EQ(zmtp_frame_wire_bytes(0, true), 35);
  EXPECT_EQ(zmtp_frame_wire_bytes(222, true), 257);
  EXPECT_EQ(zmtp_frame_wire_bytes(223, true), 265);
  EXPECT_EQ(zmtp_wire_bytes(frames_of_sizes({0, 256}), false), 2 + 265);
}

}  // namespace
}  // namespace flotilla
