// The virtual clock and arrival order: which finished task is applied next.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "async/completion_order.h"
#include "async/virtual_clock.h"

namespace flotilla {
namespace {

VirtualClock make_clock(const std::string& delay_spec, double step_cost = 1.0, uint64_t seed = 1) {
  auto delay = DelayModel::parse(delay_spec);
  EXPECT_TRUE(delay.ok()) << delay.status();
  auto clock = VirtualClock::create(VirtualClockOptions{step_cost, *delay, seed});
  EXPECT_TRUE(clock.ok()) << clock.status();
  return std::move(clock).value();
}

// Applies every in-flight task, with results reported in `report_order`, and returns the
// sequence in which the clock let them be applied.
std::vector<int64_t> drain(CompletionOrder& order, const std::vector<int64_t>& report_order) {
  std::vector<int64_t> applied;
  for (int64_t id : report_order) {
    EXPECT_TRUE(order.report(id).ok());
    while (auto next = order.next_ready()) {
      applied.push_back(*next);
      EXPECT_TRUE(order.complete(*next).ok());
    }
  }
  EXPECT_EQ(order.in_flight(), 0);
  return applied;
}

TEST(VirtualClockTest, AppliesByVirtualFinishTimeWhateverTheReportOrder) {
  // Tasks 0..5 to clients 0..5 with 6 - i steps: task 5 is shortest, task 0 longest.
  std::vector<int64_t> reports{0, 1, 2, 3, 4, 5};
  std::mt19937 shuffle(3);
  for (int trial = 0; trial < 10; ++trial) {
    VirtualClock clock = make_clock("constant:value=0");
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(clock.start(i, i, 6 - i).ok());
    EXPECT_EQ(clock.next_due(), 5);
    std::shuffle(reports.begin(), reports.end(), shuffle);
    EXPECT_EQ(drain(clock, reports), (std::vector<int64_t>{5, 4, 3, 2, 1, 0}));
    EXPECT_EQ(clock.now(), 6.0);
  }
}

TEST(VirtualClockTest, WaitsForTheTaskDueEvenIfOthersArrived) {
  VirtualClock clock = make_clock("constant:value=0");
  ASSERT_TRUE(clock.start(10, 0, 1).ok());
  ASSERT_TRUE(clock.start(11, 1, 5).ok());
  ASSERT_TRUE(clock.report(11).ok());
  EXPECT_EQ(clock.next_ready(), std::nullopt);  // 10 is due first and has not answered
  EXPECT_EQ(clock.complete(11).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(clock.report(10).ok());
  EXPECT_EQ(clock.next_ready(), 10);
}

TEST(VirtualClockTest, TiesGoToTheSmallerClientThenTheEarlierStart) {
  VirtualClock clock = make_clock("constant:value=0");
  ASSERT_TRUE(clock.start(0, 7, 2).ok());
  ASSERT_TRUE(clock.start(1, 3, 2).ok());
  ASSERT_TRUE(clock.start(2, 3, 2).ok());  // same client, same finish: started later
  ASSERT_TRUE(clock.start(3, 5, 2).ok());
  EXPECT_EQ(drain(clock, {3, 0, 2, 1}), (std::vector<int64_t>{1, 2, 3, 0}));
}

TEST(VirtualClockTest, NewTasksStartAtTheLastCompletionAndDelaysAddUp) {
  VirtualClock clock = make_clock("constant:value=0.5,per=batch;slow=1:factor=3", 2.0);
  ASSERT_TRUE(clock.start(0, 0, 4).ok());  // 4 * 2 + 4 * 0.5 = 10
  ASSERT_TRUE(clock.start(1, 1, 1).ok());  // 3 * (1 * 2) + 3 * 0.5 = 7.5
  EXPECT_EQ(*clock.finish_time(0), 10.0);
  EXPECT_EQ(*clock.finish_time(1), 7.5);
  ASSERT_TRUE(clock.report(1).ok());
  ASSERT_TRUE(clock.complete(1).ok());
  EXPECT_EQ(clock.now(), 7.5);
  ASSERT_TRUE(clock.start(2, 1, 1).ok());  // starts at 7.5
  EXPECT_EQ(*clock.finish_time(2), 15.0);
  EXPECT_EQ(clock.next_due(), 0);
}

TEST(VirtualClockTest, SameSeedSameScheduleWithGaussianDelays) {
  auto run = [](uint64_t seed, std::vector<int64_t> reports) {
    VirtualClock clock = make_clock("gaussian:mean=1,std=0.7,per=batch;slow=2:factor=4", 0.1, seed);
    for (int i = 0; i < 8; ++i) EXPECT_TRUE(clock.start(i, i % 4, 5).ok());
    return drain(clock, reports);
  };
  const auto a = run(42, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(run(42, {7, 6, 5, 4, 3, 2, 1, 0}), a);
  EXPECT_EQ(run(42, {3, 1, 4, 0, 5, 7, 2, 6}), a);
  EXPECT_EQ(a.size(), 8u);
}

TEST(VirtualClockTest, RefusesMisuse) {
  VirtualClock clock = make_clock("constant:value=0");
  ASSERT_TRUE(clock.start(0, 0, 1).ok());
  EXPECT_EQ(clock.start(0, 1, 1).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(clock.start(1, 1, -1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(clock.report(9).code(), StatusCode::kNotFound);
  ASSERT_TRUE(clock.report(0).ok());
  EXPECT_EQ(clock.report(0).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(clock.cancel(0).ok());
  EXPECT_EQ(clock.in_flight(), 0);
  EXPECT_EQ(clock.next_ready(), std::nullopt);
  EXPECT_EQ(clock.now(), 0.0);  // a cancelled task does not move time
  EXPECT_FALSE(VirtualClock::create(VirtualClockOptions{-1.0, DelayModel(), 0}).ok());
}

TEST(ArrivalOrderTest, AppliesInReportOrder) {
  ArrivalOrder order;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(order.start(i, i, 10 - i).ok());
  EXPECT_EQ(drain(order, {2, 0, 3, 1}), (std::vector<int64_t>{2, 0, 3, 1}));
  ASSERT_TRUE(order.start(5, 0, 1).ok());
  EXPECT_EQ(order.report(6).code(), StatusCode::kNotFound);
  ASSERT_TRUE(order.report(5).ok());
  EXPECT_TRUE(order.cancel(5).ok());
  EXPECT_EQ(order.next_ready(), std::nullopt);
}

}  // namespace
}  // namespace flotilla
