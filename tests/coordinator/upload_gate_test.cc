// UploadGate: offers are granted in the order they came while the granted bytes fit the budget
// (one always), and every way an upload ends gives its bytes back.
#include "coordinator/upload_gate.h"

#include <gtest/gtest.h>

#include <limits>

namespace flotilla {
namespace {

UploadGate::Offer offer(const std::string& peer, int client, int64_t bytes, uint64_t task = 1) {
  return {peer, task, client, bytes};
}

std::vector<int> clients_of(const std::vector<UploadGate::Offer>& offers) {
  std::vector<int> ids;
  for (const auto& o : offers) ids.push_back(o.client_id);
  return ids;
}

TEST(UploadGateTest, GrantsInOfferOrderWithinTheBudget) {
  UploadGate gate(100);
  for (int id = 0; id < 5; ++id) gate.offer(offer("a", id, 40));
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{0, 1}));  // 80 of 100; a third would be 120
  EXPECT_EQ(gate.in_flight_bytes(), 80);
  EXPECT_EQ(gate.queued(), 3u);
  EXPECT_TRUE(gate.grantable().empty());
  gate.done("a", 0);
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{2}));
  gate.done("a", 1);
  gate.done("a", 2);
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{3, 4}));
  gate.done("a", 3);
  gate.done("a", 4);
  EXPECT_EQ(gate.in_flight_bytes(), 0);
  EXPECT_EQ(gate.in_flight(), 0u);
}

TEST(UploadGateTest, AnUpdateLargerThanTheBudgetStillGoesAloneAndInTurn) {
  UploadGate gate(10);
  gate.offer(offer("a", 0, 1000));
  gate.offer(offer("b", 1, 5));
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{0}));
  EXPECT_TRUE(gate.grantable().empty());  // the small one waits its turn: order is kept
  gate.done("a", 0);
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{1}));
}

TEST(UploadGateTest, AClaimedSizeNearTheLargestIntegerDoesNotOverflow) {
  UploadGate gate(100);
  gate.offer(offer("a", 0, 60));
  gate.offer(offer("b", 1, std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{0}));  // the huge one waits for room
  gate.done("a", 0);
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{1}));  // alone, as any update may be
  gate.offer(offer("c", 2, 1));
  EXPECT_TRUE(gate.grantable().empty());
}

TEST(UploadGateTest, DoneForAnotherPeerOrAnUnknownClientChangesNothing) {
  UploadGate gate(100);
  gate.offer(offer("a", 0, 60));
  ASSERT_EQ(gate.grantable().size(), 1u);
  gate.done("b", 0);  // same client id, another process: not this upload
  gate.done("a", 9);
  EXPECT_EQ(gate.in_flight_bytes(), 60);
  gate.done("a", 0);
  gate.done("a", 0);  // twice: the second is a no-op, the budget never goes negative
  EXPECT_EQ(gate.in_flight_bytes(), 0);
}

TEST(UploadGateTest, ALostPeerGivesBackItsGrantsAndQueuedOffers) {
  UploadGate gate(100);
  gate.offer(offer("a", 0, 50));
  gate.offer(offer("a", 1, 50));
  gate.offer(offer("a", 2, 50));
  gate.offer(offer("b", 3, 50));
  ASSERT_EQ(clients_of(gate.grantable()), (std::vector<int>{0, 1}));
  gate.forget_peer("a");
  EXPECT_EQ(gate.in_flight_bytes(), 0);
  EXPECT_EQ(clients_of(gate.grantable()), (std::vector<int>{3}));
  EXPECT_EQ(gate.queued(), 0u);
}

TEST(UploadGateTest, UnwantedOffersAreDroppedInOrderAndANewOfferReplacesTheOld) {
  UploadGate gate(10);
  gate.offer(offer("a", 0, 100));
  ASSERT_EQ(gate.grantable().size(), 1u);  // fills the budget: the rest queue
  gate.offer(offer("a", 1, 5, /*task=*/1));
  gate.offer(offer("a", 2, 5, /*task=*/1));
  gate.offer(offer("a", 3, 5, /*task=*/2));
  gate.offer(offer("a", 1, 7, /*task=*/2));  // client 1's newer answer replaces its older offer
  EXPECT_EQ(gate.queued(), 3u);
  const auto dropped = gate.drop_queued_if([](const UploadGate::Offer& o) { return o.task_id == 1; });
  EXPECT_EQ(clients_of(dropped), (std::vector<int>{2}));
  gate.done("a", 0);
  const auto granted = gate.grantable();
  EXPECT_EQ(clients_of(granted), (std::vector<int>{3}));  // 5 + 7 > 10: client 1 waits
  EXPECT_EQ(gate.in_flight_bytes(), 5);
}

TEST(UploadGateTest, AGrantNotHonouredInTimeGivesItsRoomToTheNext) {
  using namespace std::chrono_literals;
  UploadGate gate(100, 30s);
  const auto t0 = UploadGate::Clock::now();
  gate.offer(offer("stalling", 0, 100));
  gate.offer(offer("honest", 1, 100));
  EXPECT_EQ(clients_of(gate.grantable(t0)), (std::vector<int>{0}));
  EXPECT_TRUE(gate.grantable(t0 + 29s).empty());  // still within its time
  EXPECT_EQ(gate.expired(), 0);
  EXPECT_EQ(clients_of(gate.grantable(t0 + 30s)), (std::vector<int>{1}));
  EXPECT_EQ(gate.expired(), 1);
  EXPECT_EQ(gate.in_flight_bytes(), 100);  // the honest one's alone
  gate.done("stalling", 0);                // it came after all: taken, and nothing is given back twice
  EXPECT_EQ(gate.in_flight_bytes(), 100);
}

TEST(UploadGateTest, PeaksAreTheRoundsAndStartOverFromThePresent) {
  UploadGate gate(100);
  for (int id = 0; id < 4; ++id) gate.offer(offer("a", id, 50));
  gate.grantable();
  gate.done("a", 0);
  gate.done("a", 1);
  gate.grantable();
  auto peaks = gate.take_peaks();
  EXPECT_EQ(peaks.in_transit_bytes, 100);
  EXPECT_EQ(peaks.waiting, 2);  // clients 2 and 3 waited for the first two
  gate.done("a", 2);
  peaks = gate.take_peaks();  // nothing new happened: the present values
  EXPECT_EQ(peaks.in_transit_bytes, 100);
  EXPECT_EQ(peaks.waiting, 0);
  peaks = gate.take_peaks();
  EXPECT_EQ(peaks.in_transit_bytes, 50);  // client 3 is still in transit
}

}  // namespace
}  // namespace flotilla
