// Receive limits on the server channel: a message over max_message_frames or max_message_bytes is
// handed out as refused (frames dropped, sender named) and the next good message still arrives; a
// frame over max_frame_bytes costs its sender the connection while the server goes on serving.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/text.h"
#include "tests/transport/transport_test_util.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using testing::kArrives;
using testing::kNothing;

using test_text::contains;

using namespace std::chrono_literals;
using testing::allow;
using testing::curve_client_options;
using testing::curve_server_options;
using testing::make_keys;
using testing::receive_within;
using testing::text_frames;

Frames sized_frames(std::initializer_list<size_t> sizes) {
  Frames f;
  for (size_t n : sizes) f.push_back(Frame::from_string(std::string(n, 'z')));
  return f;
}

struct Pair {
  std::unique_ptr<ServerChannel> server;
  std::unique_ptr<ClientChannel> client;
};

Pair connect_pair(const ZmqOptions& server_options, const ZmqOptions& client_options = {}) {
  Pair p;
  auto server = bind_server_channel("tcp://127.0.0.1:*", server_options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return p;
  p.server = std::move(*server);
  auto client = connect_client_channel(p.server->endpoint(), client_options);
  EXPECT_TRUE(client.ok()) << client.status();
  if (client.ok()) p.client = std::move(*client);
  return p;
}

// The good message after a refused one arrives whole, from the same peer, which can be answered.
void expect_next_good_message_arrives(Pair& p, const std::string& peer) {
  ASSERT_TRUE(p.client->send(text_frames({"good", "two"})).ok());
  auto in = receive_within(*p.server, kArrives);
  ASSERT_TRUE(in.has_value());
  EXPECT_TRUE(in->refused.ok()) << in->refused;
  ASSERT_EQ(in->frames.size(), 2u);
  EXPECT_EQ(in->frames[0].view(), "good");
  EXPECT_EQ(in->peer, peer);
  ASSERT_TRUE(p.server->send(in->peer, text_frames({"ack"})).ok());
  auto back = receive_within(*p.client, kArrives);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ((*back)[0].view(), "ack");
}

TEST(ReceiveLimitsTest, TooManyFramesIsRefusedAndTheNextMessageArrives) {
  ZmqOptions options;
  options.max_message_frames = 3;
  Pair p = connect_pair(options);
  ASSERT_TRUE(p.server && p.client);
  const Frames big = sized_frames({1, 2, 3, 4, 5});
  ASSERT_TRUE(p.client->send(big).ok());
  auto in = receive_within(*p.server, kArrives);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->refused.code(), StatusCode::kOutOfRange) << in->refused;
  EXPECT_TRUE(contains(in->refused.message(), "5 frames")) << in->refused;
  EXPECT_TRUE(contains(in->refused.message(), "max_message_frames (3)")) << in->refused;
  EXPECT_TRUE(in->frames.empty());
  EXPECT_FALSE(in->peer.empty());
  EXPECT_EQ(in->wire_bytes, p.server->wire_bytes(big)) << "a refused message still counts what it sent";
  expect_next_good_message_arrives(p, in->peer);

  // Exactly at the limit is fine.
  ASSERT_TRUE(p.client->send(sized_frames({1, 2, 3})).ok());
  auto at_limit = receive_within(*p.server, kArrives);
  ASSERT_TRUE(at_limit.has_value());
  EXPECT_TRUE(at_limit->refused.ok()) << at_limit->refused;
  EXPECT_EQ(at_limit->frames.size(), 3u);
}

TEST(ReceiveLimitsTest, TooManyBytesIsRefusedWithTheSenderNamed) {
  const CurveKeyPair server_keys = make_keys(), alice = make_keys();
  ZmqOptions options = curve_server_options(server_keys, allow({{"alice", alice}}));
  options.max_message_bytes = 1000;
  Pair p = connect_pair(options, curve_client_options(alice, server_keys.public_key));
  ASSERT_TRUE(p.server && p.client);
  ASSERT_TRUE(p.client->send(sized_frames({600, 600, 10})).ok());
  auto in = receive_within(*p.server, kArrives);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->refused.code(), StatusCode::kOutOfRange) << in->refused;
  EXPECT_TRUE(contains(in->refused.message(), "1210 bytes")) << in->refused;
  EXPECT_TRUE(contains(in->refused.message(), "max_message_bytes (1000)")) << in->refused;
  EXPECT_TRUE(in->frames.empty());
  EXPECT_EQ(in->user_id, "alice");
  expect_next_good_message_arrives(p, in->peer);

  ASSERT_TRUE(p.client->send(sized_frames({1000})).ok());
  auto at_limit = receive_within(*p.server, kArrives);
  ASSERT_TRUE(at_limit.has_value());
  EXPECT_TRUE(at_limit->refused.ok()) << at_limit->refused;
  EXPECT_EQ(at_limit->user_id, "alice");
}

TEST(ReceiveLimitsTest, OversizedFrameCostsTheConnectionNotTheServer) {
  ZmqOptions options;
  options.max_frame_bytes = 1000;
  Pair p = connect_pair(options);
  ASSERT_TRUE(p.server && p.client);
  // libzmq drops the connection on reading the frame header; the message is never delivered.
  ASSERT_TRUE(p.client->send(sized_frames({5000})).ok());
  auto in = receive_within(*p.server, kNothing);
  EXPECT_FALSE(in.has_value()) << "an oversized frame was delivered";

  auto good = connect_client_channel(p.server->endpoint());
  ASSERT_TRUE(good.ok()) << good.status();
  ASSERT_TRUE((*good)->send(text_frames({"small"})).ok());
  auto next = receive_within(*p.server, kArrives);
  ASSERT_TRUE(next.has_value()) << "the server stopped serving";
  ASSERT_EQ(next->frames.size(), 1u);
  EXPECT_EQ(next->frames[0].view(), "small");
}

}  // namespace
}  // namespace flotilla
