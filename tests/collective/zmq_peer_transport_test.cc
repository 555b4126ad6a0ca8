// ZmqPeerTransport with several ranks in one process (the channels' process-wide ZeroMQ context
// serves them all): per-sender order with buffering of other senders, measured traffic, timeouts
// naming the silent rank, refusal of messages over the limit, and with CURVE, refusal of a rank
// whose key is not in the group. Collectives over real processes are in collective_process_test.
#include "collective/zmq_peer_transport.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <chrono>
#include <string>

#include "tests/collective/rank_processes.h"
#include "tests/support/text.h"

namespace flotilla {
namespace {

using test_text::contains;

using namespace std::chrono_literals;
using testing::ipc_group;
using testing::TempDir;

Frames text(const std::string& s) { return {Frame::from_string(s)}; }

std::vector<std::unique_ptr<ZmqPeerTransport>> make_group(const std::vector<PeerInfo>& peers,
                                                          const std::vector<ZmqPeerOptions>& options) {
  std::vector<std::unique_ptr<ZmqPeerTransport>> group;
  for (size_t r = 0; r < peers.size(); ++r) {
    auto transport = ZmqPeerTransport::create(static_cast<int>(r), peers, options[r]);
    EXPECT_TRUE(transport.ok()) << transport.status();
    group.push_back(transport.ok() ? std::move(transport).value() : nullptr);
  }
  return group;
}

TEST(ZmqPeerTransportTest, OrderPerSenderOtherSendersBufferedTrafficCounted) {
  TempDir dir;
  auto group = make_group(ipc_group(dir.path(), 3), std::vector<ZmqPeerOptions>(3));
  ASSERT_TRUE(group[0] && group[1] && group[2]);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(group[1]->send(0, text("one-" + std::to_string(i))).ok());
    ASSERT_TRUE(group[2]->send(0, text("two-" + std::to_string(i))).ok());
  }
  // Rank 2's messages first: rank 1's, arriving meanwhile, wait in the buffer.
  for (int i = 0; i < 5; ++i) {
    auto frames = group[0]->receive(2, 5s);
    ASSERT_TRUE(frames.ok()) << frames.status();
    ASSERT_EQ(frames->size(), 1u);
    EXPECT_EQ((*frames)[0].view(), "two-" + std::to_string(i));
  }
  for (int i = 0; i < 5; ++i) {
    auto frames = group[0]->receive(1, 5s);
    ASSERT_TRUE(frames.ok()) << frames.status();
    EXPECT_EQ((*frames)[0].view(), "one-" + std::to_string(i));
  }
  const PeerTraffic received = group[0]->traffic();
  EXPECT_EQ(received.messages_received, 10);
  EXPECT_EQ(received.bytes_received_from[1], group[1]->traffic().bytes_sent_to[0]);
  EXPECT_EQ(received.bytes_received_from[2], group[2]->traffic().bytes_sent);
  // Header frame (16 + 2) and "one-i" (5 + 2) per message.
  EXPECT_EQ(received.bytes_received_from[1], 5 * (18 + 7));
  EXPECT_EQ(received.bytes_received, received.bytes_received_from[1] + received.bytes_received_from[2]);
}

TEST(ZmqPeerTransportTest, SilencePeerIsDeadlineExceededNamingTheRank) {
  TempDir dir;
  auto group = make_group(ipc_group(dir.path(), 2), std::vector<ZmqPeerOptions>(2));
  ASSERT_TRUE(group[0] && group[1]);
  auto frames = group[0]->receive(1, 200ms);
  ASSERT_FALSE(frames.ok());
  EXPECT_EQ(frames.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(contains(frames.status().message(), "from rank 1")) << frames.status();
  EXPECT_EQ(group[0]->receive(0, 1ms).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(group[0]->send(2, text("x")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(group[0]->send(1, {}).code(), StatusCode::kInvalidArgument);
}

TEST(ZmqPeerTransportTest, MessagesOverTheLimitAreRefused) {
  TempDir dir;
  ZmqPeerOptions options;
  options.max_message_bytes = 1000;
  auto group = make_group(ipc_group(dir.path(), 2), {options, options});
  ASSERT_TRUE(group[0] && group[1]);
  ASSERT_TRUE(group[1]->send(0, text("hello")).ok());
  ASSERT_TRUE(group[0]->receive(1, 5s).ok());
  // Two frames under the frame limit, over the message limit: released unread, and reported.
  ASSERT_TRUE(
      group[1]->send(0, {Frame::from_string(std::string(600, 'a')), Frame::from_string(std::string(600, 'b'))}).ok());
  auto refused = group[0]->receive(1, 5s);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(refused.status().message(), "from rank 1")) << refused.status();
  // One frame over the frame limit: libzmq drops the connection before allocating it, so nothing
  // arrives.
  ASSERT_TRUE(group[1]->send(0, text(std::string(5000, 'c'))).ok());
  EXPECT_EQ(group[0]->receive(1, 500ms).status().code(), StatusCode::kDeadlineExceeded);
}

TEST(ZmqPeerTransportTest, BadGroupsAreRefused) {
  TempDir dir;
  auto peers = ipc_group(dir.path(), 2);
  EXPECT_EQ(ZmqPeerTransport::create(2, peers).status().code(), StatusCode::kInvalidArgument);
  auto twice = peers;
  twice[1].rank = 0;
  EXPECT_TRUE(contains(ZmqPeerTransport::create(0, twice).status().message(), "listed twice"));
  auto same_endpoint = peers;
  same_endpoint[1].endpoint = peers[0].endpoint;
  EXPECT_TRUE(contains(ZmqPeerTransport::create(0, same_endpoint).status().message(), "listed twice"));
  ZmqPeerOptions no_limit;
  no_limit.max_message_bytes = 0;
  EXPECT_EQ(ZmqPeerTransport::create(0, peers, no_limit).status().code(), StatusCode::kInvalidArgument);
}

class ZmqPeerTransportCurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (zmq_has("curve") == 0) GTEST_SKIP() << "libzmq without CURVE";
  }
  static CurveKeyPair keys() {
    auto pair = generate_curve_keypair();
    EXPECT_TRUE(pair.ok()) << pair.status();
    return pair.ok() ? *pair : CurveKeyPair{};
  }
};

TEST_F(ZmqPeerTransportCurveTest, GroupKeysGetThroughOthersDoNot) {
  TempDir dir;
  const CurveKeyPair k0 = keys(), k1 = keys(), k2 = keys(), rogue = keys();
  auto peers = ipc_group(dir.path(), 3);
  peers[0].public_key = k0.public_key;
  peers[1].public_key = k1.public_key;
  peers[2].public_key = k2.public_key;
  ZmqPeerOptions o0, o1, o2;
  o0.keys = k0;
  o1.keys = k1;
  o2.keys = k2;
  auto group = make_group(peers, {o0, o1, o2});
  ASSERT_TRUE(group[0] && group[1]);
  ASSERT_TRUE(group[1]->send(0, text("member")).ok());
  auto frames = group[0]->receive(1, 5s);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ((*frames)[0].view(), "member");

  // A process claiming rank 2 with a key the group does not know: rank 0 admits nothing from it.
  group[2].reset();
  auto imposter_peers = peers;
  imposter_peers[2].public_key = rogue.public_key;
  ZmqPeerOptions imposter_options;
  imposter_options.keys = rogue;
  auto imposter = ZmqPeerTransport::create(2, imposter_peers, imposter_options);
  ASSERT_TRUE(imposter.ok()) << imposter.status();
  (*imposter)->send(0, text("let me in")).ignore_error();
  auto nothing = group[0]->receive(2, 1500ms);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().code(), StatusCode::kDeadlineExceeded) << nothing.status();
  // Rank 1 still gets through after the refusal.
  ASSERT_TRUE(group[1]->send(0, text("still here")).ok());
  auto again = group[0]->receive(1, 5s);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)[0].view(), "still here");
}

TEST_F(ZmqPeerTransportCurveTest, KeyPairMustMatchTheGroupList) {
  TempDir dir;
  const CurveKeyPair k0 = keys(), k1 = keys();
  auto peers = ipc_group(dir.path(), 2);
  peers[0].public_key = k1.public_key;  // not rank 0's key
  peers[1].public_key = k1.public_key;
  ZmqPeerOptions o0;
  o0.keys = k0;
  EXPECT_EQ(ZmqPeerTransport::create(0, peers, o0).status().code(), StatusCode::kInvalidArgument);
  peers[1].public_key = "";
  EXPECT_EQ(ZmqPeerTransport::create(0, peers, o0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flotilla
