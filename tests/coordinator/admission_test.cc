#include "coordinator/admission.h"

#include <gtest/gtest.h>

#include "core/log_throttle.h"

namespace flotilla {
namespace {

TEST(AdmissionTest, UnknownPeerGetsABudgetThenIsDropped) {
  Admission a(AdmissionOptions{3, 100});
  EXPECT_TRUE(a.admit_unknown("x"));
  EXPECT_TRUE(a.admit_unknown("x"));
  EXPECT_TRUE(a.admit_unknown("x"));
  EXPECT_FALSE(a.admit_unknown("x"));
  EXPECT_FALSE(a.admit_unknown("x"));
  EXPECT_EQ(a.dropped(), 2);
  EXPECT_TRUE(a.admit_unknown("y"));  // budgets are per peer
}

TEST(AdmissionTest, ForgettingARegisteredPeerFreesItsEntry) {
  Admission a(AdmissionOptions{1, 100});
  EXPECT_TRUE(a.admit_unknown("x"));
  a.forget("x");
  EXPECT_EQ(a.tracked(), 0u);
}

TEST(AdmissionTest, TheTableStaysBoundedUnderAFloodOfPeers) {
  Admission a(AdmissionOptions{2, 64});
  for (int i = 0; i < 10000; ++i) a.admit_unknown("peer" + std::to_string(i));
  EXPECT_EQ(a.tracked(), 64u);
}

TEST(LogThrottleTest, LetsABurstThroughPerPeriodAndCountsTheRest) {
  using namespace std::chrono_literals;
  LogThrottle t(2, 1s);
  const auto t0 = LogThrottle::Clock::now();
  int64_t suppressed = -1;
  EXPECT_TRUE(t.allow(&suppressed, t0));
  EXPECT_EQ(suppressed, 0);
  EXPECT_TRUE(t.allow(&suppressed, t0));
  EXPECT_FALSE(t.allow(&suppressed, t0 + 100ms));
  EXPECT_FALSE(t.allow(&suppressed, t0 + 200ms));
  EXPECT_TRUE(t.allow(&suppressed, t0 + 1100ms));
  EXPECT_EQ(suppressed, 2);
}

}  // namespace
}  // namespace flotilla
