#include "coordinator/conduct_budget.h"

#include <gtest/gtest.h>

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using Verdict = ConductBudget::Verdict;

TEST(ConductBudgetTest, GoodMessagesAreNeverThrottled) {
  ConductBudget budget(ConductBudgetOptions{2, 1.0, 3});
  const auto t0 = ConductBudget::Clock::now();
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(budget.on_message("a", t0), Verdict::kRead);
  EXPECT_EQ(budget.dropped(), 0);
}

TEST(ConductBudgetTest, ABurstOfBadMessagesThrottlesThenTheBucketRefills) {
  ConductBudget budget(ConductBudgetOptions{2, 1.0, 100});
  const auto t0 = ConductBudget::Clock::now();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(budget.on_message("a", t0), Verdict::kRead);
    budget.charge("a", t0);
  }
  EXPECT_EQ(budget.on_message("a", t0), Verdict::kThrottled);
  EXPECT_EQ(budget.on_message("b", t0), Verdict::kRead);               // budgets are per peer
  EXPECT_EQ(budget.on_message("a", t0 + 500ms), Verdict::kThrottled);  // half a token
  EXPECT_EQ(budget.on_message("a", t0 + 1s), Verdict::kRead);          // one token back
  EXPECT_EQ(budget.dropped(), 2);
}

TEST(ConductBudgetTest, APeerThatKeepsSendingWhileThrottledIsDisconnectedOnce) {
  ConductBudget budget(ConductBudgetOptions{1, 0.0, 3});
  const auto t0 = ConductBudget::Clock::now();
  ASSERT_EQ(budget.on_message("a", t0), Verdict::kRead);
  budget.charge("a", t0);
  EXPECT_EQ(budget.on_message("a", t0), Verdict::kThrottled);
  EXPECT_EQ(budget.on_message("a", t0), Verdict::kThrottled);
  EXPECT_EQ(budget.on_message("a", t0), Verdict::kDisconnect);
  // Forgotten with the disconnection: a new registration of that peer starts with a full bucket.
  EXPECT_EQ(budget.on_message("a", t0), Verdict::kRead);
}

TEST(ConductBudgetTest, ForgettingAPeerDropsItsDebt) {
  ConductBudget budget(ConductBudgetOptions{1, 0.0, 10});
  const auto t0 = ConductBudget::Clock::now();
  budget.charge("a", t0);
  EXPECT_EQ(budget.on_message("a", t0), Verdict::kThrottled);
  budget.forget("a");
  EXPECT_EQ(budget.on_message("a", t0), Verdict::kRead);
}

}  // namespace
}  // namespace flotilla
