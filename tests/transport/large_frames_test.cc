// Frames and limits past 32 bits: a tensor frame over 2 GiB crosses tcp:// whole in both
// directions (coordinator to client and back), in the clear and encrypted with CURVE, under
// receive limits derived from its size as the coordinator derives them, and limits over 4 GiB are
// not truncated. The multi-GB transfers run only with FLOTILLA_LARGE_TESTS=1 (they need about
// 4.5 GB of memory in the clear, 9 GB with CURVE); the rest always runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "tests/transport/transport_test_util.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using testing::kArrives;

using namespace std::chrono_literals;
using testing::allow;
using testing::curve_client_options;
using testing::curve_server_options;
using testing::make_keys;
using testing::receive_within;
using testing::text_frames;

constexpr int64_t kAllowance = int64_t{1} << 20;  // as the coordinator's envelope allowance

bool large_tests() {
  const char* v = std::getenv("FLOTILLA_LARGE_TESTS");
  return v != nullptr && std::string(v) == "1";
}

TEST(LargeFramesTest, WireBytesOfFramesOver4GiB) {
  const size_t five_gib = size_t{5} << 30;
  EXPECT_EQ(zmtp_frame_wire_bytes(five_gib, false), static_cast<int64_t>(five_gib) + 9);
  EXPECT_EQ(zmtp_frame_wire_bytes(five_gib, true), static_cast<int64_t>(five_gib) + 9 + 33);
  static const char dummy = 0;
  const Frames frames{Frame::from_owner(nullptr, &dummy, five_gib), Frame::from_owner(nullptr, &dummy, five_gib)};
  EXPECT_EQ(zmtp_wire_bytes(frames, false), 2 * (static_cast<int64_t>(five_gib) + 9));
}

// Limits of 4 GiB + 100 bytes: truncated to 32 bits they would be 100, and refuse these frames.
TEST(LargeFramesTest, LimitsOver4GiBAreNotTruncated) {
  ZmqOptions options;
  options.max_frame_bytes = (int64_t{1} << 32) + 100;
  options.max_message_bytes = (int64_t{1} << 32) + 100;
  auto server = bind_server_channel("tcp://127.0.0.1:*", options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = connect_client_channel((*server)->endpoint());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->send(text_frames({std::string(1000, 'a'), std::string(3000, 'b')})).ok());
  auto in = receive_within(**server, kArrives);
  ASSERT_TRUE(in.has_value()) << "a frame under the limit was dropped";
  EXPECT_TRUE(in->refused.ok()) << in->refused;
  ASSERT_EQ(in->frames.size(), 2u);
  EXPECT_EQ(in->frames[1].size(), 3000u);
}

// A frame of `size` bytes, every byte a function of its offset, so that any misplaced chunk shows.
Frame patterned_frame(size_t size) {
  std::shared_ptr<char[]> bytes(new char[size]);
  for (size_t i = 0; i < size; i += 4096)
    std::memset(bytes.get() + i, static_cast<int>(i / 4096 % 251), std::min<size_t>(4096, size - i));
  std::memcpy(bytes.get() + size - 8, "the end!", 8);
  const char* data = bytes.get();
  return Frame::from_owner(std::move(bytes), data, size);
}

bool same_bytes(const Frame& a, const Frame& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

// One frame of 2 GiB + 64 bytes each way, with the given options (CURVE or none).
void frame_over_2gib_crosses_both_ways(ZmqOptions server_options, ZmqOptions client_options) {
  const size_t size = (size_t{1} << 31) + 64;  // a float32 tensor of 2^29 + 16 elements
  // The server's limits as the coordinator derives them from a model whose largest tensor is it.
  server_options.max_frame_bytes = static_cast<int64_t>(size) + kAllowance;
  server_options.max_message_frames = 2 + 8;
  server_options.max_message_bytes = static_cast<int64_t>(size) + kAllowance;
  auto server = bind_server_channel("tcp://127.0.0.1:*", server_options);
  ASSERT_TRUE(server.ok()) << server.status();
  client_options.max_frame_bytes = -1;  // as the client host sets it
  auto client = connect_client_channel((*server)->endpoint(), client_options);
  ASSERT_TRUE(client.ok()) << client.status();

  std::string peer;
  {
    // Client to coordinator: an update.
    const Frames update{Frame::from_string("header"), patterned_frame(size)};
    ASSERT_TRUE((*client)->send(update).ok());
    auto in = receive_within(**server, 120s);
    ASSERT_TRUE(in.has_value()) << "the update did not arrive";
    ASSERT_TRUE(in->refused.ok()) << in->refused;
    ASSERT_EQ(in->frames.size(), 2u);
    EXPECT_EQ(in->frames[0].view(), "header");
    EXPECT_TRUE(same_bytes(in->frames[1], update[1]));
    // libzmq gives a large frame a buffer of its own, aligned for any dtype: the codec wraps it
    // as a tensor without copying (it copies a misaligned frame).
    EXPECT_EQ(reinterpret_cast<uintptr_t>(in->frames[1].data()) % 8, 0u);
    EXPECT_EQ(in->wire_bytes, (*server)->wire_bytes(update));
    peer = in->peer;
  }
  {
    // Coordinator to client: a task.
    const Frames task{Frame::from_string("task"), patterned_frame(size)};
    ASSERT_TRUE((*server)->send(peer, task).ok());
    auto back = receive_within(**client, 120s);
    ASSERT_TRUE(back.has_value()) << "the task did not arrive";
    ASSERT_EQ(back->size(), 2u);
    EXPECT_EQ((*back)[0].view(), "task");
    EXPECT_TRUE(same_bytes((*back)[1], task[1]));
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*back)[1].data()) % 8, 0u);
  }
}

TEST(LargeFramesTest, FrameOver2GiBCrossesTcpBothWays) {
  if (!large_tests()) GTEST_SKIP() << "set FLOTILLA_LARGE_TESTS=1 (needs about 4.5 GB of memory)";
  frame_over_2gib_crosses_both_ways({}, {});
}

// CURVE encrypts each frame into a message of its own (33 bytes longer) and decrypts it into
// another: the sizes past 2^31 must survive both copies, and the MAC must check.
TEST(LargeFramesTest, FrameOver2GiBCrossesCurveBothWays) {
  if (!large_tests()) GTEST_SKIP() << "set FLOTILLA_LARGE_TESTS=1 (needs about 9 GB of memory)";
  const CurveKeyPair server_keys = make_keys(), client_keys = make_keys();
  frame_over_2gib_crosses_both_ways(curve_server_options(server_keys, allow({{"big", client_keys}})),
                                    curve_client_options(client_keys, server_keys.public_key));
}

}  // namespace
}  // namespace flotilla
