#include "coordinator/client_registry.h"

#include <gtest/gtest.h>

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using Clock = ClientRegistry::Clock;

Capabilities caps(int pid) { return Capabilities{"host", pid, "cpu", 1, ""}; }

TEST(ClientRegistryTest, RegistersAndReportsLiveIds) {
  ClientRegistry r;
  const auto t0 = Clock::now();
  ASSERT_TRUE(r.register_peer("p1", "", 11, caps(1), {0, 1}, t0).ok());
  ASSERT_TRUE(r.register_peer("p2", "", 22, caps(2), {2}, t0).ok());
  EXPECT_EQ(r.live_ids(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(r.live_peer_of(1)->peer, "p1");
  EXPECT_EQ(r.live_peers().size(), 2u);
}

TEST(ClientRegistryTest, RefusesIdsHeldByAnotherLiveProcess) {
  ClientRegistry r;
  const auto t0 = Clock::now();
  ASSERT_TRUE(r.register_peer("p1", "", 11, caps(1), {0, 1}, t0).ok());
  Status s = r.register_peer("intruder", "", 99, caps(9), {2, 1}, t0);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("client 1 is held by a live process"), std::string::npos) << s.message();
  // Nothing changed, not even the free id 2.
  EXPECT_EQ(r.live_peer_of(1)->peer, "p1");
  EXPECT_EQ(r.live_peer_of(2), nullptr);
  EXPECT_FALSE(r.is_registered_peer("intruder"));
}

TEST(ClientRegistryTest, SameInstanceOnANewConnectionTakesItsIdsBack) {
  ClientRegistry r;
  const auto t0 = Clock::now();
  ASSERT_TRUE(r.register_peer("old-conn", "", 11, caps(1), {0, 1}, t0).ok());
  ASSERT_TRUE(r.register_peer("new-conn", "", 11, caps(1), {0, 1}, t0).ok());
  EXPECT_EQ(r.live_peer_of(0)->peer, "new-conn");
  EXPECT_EQ(r.find_peer("old-conn"), nullptr);  // left with no ids, forgotten
}

TEST(ClientRegistryTest, LostPeersIdsAreTakenOverByARestartedProcess) {
  ClientRegistry r;
  const auto t0 = Clock::now();
  ASSERT_TRUE(r.register_peer("p1", "", 11, caps(1), {0, 1}, t0).ok());
  EXPECT_EQ(r.mark_lost("p1"), (std::vector<int>{0, 1}));
  EXPECT_TRUE(r.live_ids().empty());
  EXPECT_EQ(r.size(), 2);  // still registered, unreachable
  EXPECT_TRUE(r.mark_lost("p1").empty());
  ASSERT_TRUE(r.register_peer("p1-restarted", "", 12, caps(3), {0, 1}, t0).ok());
  EXPECT_EQ(r.live_ids(), (std::vector<int>{0, 1}));
}

TEST(ClientRegistryTest, SilentPeersAreThoseNotHeardFromWithinTheTimeout) {
  ClientRegistry r;
  const auto t0 = Clock::now();
  ASSERT_TRUE(r.register_peer("p1", "", 1, caps(1), {0}, t0).ok());
  ASSERT_TRUE(r.register_peer("p2", "", 2, caps(2), {1}, t0).ok());
  EXPECT_TRUE(r.heard_from("p2", t0 + 8s));
  EXPECT_FALSE(r.heard_from("stranger", t0 + 8s));
  EXPECT_EQ(r.silent_peers(t0 + 11s, 10s), (std::vector<std::string>{"p1"}));
  EXPECT_TRUE(r.silent_peers(t0 + 9s, 10s).empty());
}

TEST(ClientRegistryTest, PartialTakeOverLeavesTheOldPeerItsOtherIds) {
  ClientRegistry r;
  const auto t0 = Clock::now();
  ASSERT_TRUE(r.register_peer("p1", "", 1, caps(1), {0, 1}, t0).ok());
  r.mark_lost("p1");
  ASSERT_TRUE(r.register_peer("p2", "", 2, caps(2), {0}, t0).ok());
  EXPECT_EQ(r.live_ids(), (std::vector<int>{0}));
  ASSERT_TRUE(r.register_peer("p3", "", 3, caps(3), {1}, t0).ok());
  EXPECT_EQ(r.mark_lost("p2"), (std::vector<int>{0}));
  EXPECT_EQ(r.live_ids(), (std::vector<int>{1}));
}

}  // namespace
}  // namespace flotilla
