#include "coordinator/sync_round.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace flotilla {
namespace {

TEST(SyncRoundTest, CompletesWhenEveryTaskAnswered) {
  SyncRound r(3, 1);
  r.task_sent(4, 100, {});
  r.task_sent(1, 100, {});
  EXPECT_FALSE(r.complete());
  r.accept(4, {});
  EXPECT_FALSE(r.complete());
  r.accept(1, {});
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.answered(), 2);
}

TEST(SyncRoundTest, ALostClientEndsItsTaskAtOnceAndTheRoundGoesOn) {
  SyncRound r(1, 2);
  for (int id : {0, 1, 2}) r.task_sent(id, 10, {});
  r.accept(0, {});
  r.accept(2, {});
  EXPECT_FALSE(r.complete());
  r.task_ended(1, "lost: connection closed");
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.failures(), (std::vector<int>{1}));
  RoundMetrics m;
  r.fill(&m);
  EXPECT_EQ(m.lost, 1);
  EXPECT_EQ(m.answered, 2);
  EXPECT_EQ(m.bytes_sent, 30);
  EXPECT_EQ(m.clients[1].status, "lost: connection closed");
}

TEST(SyncRoundTest, TooFewAnswersAskForReplacements) {
  SyncRound r(1, 2);
  r.task_sent(0, 10, {});
  r.task_sent(1, 10, {});
  EXPECT_EQ(r.replacements_needed(), 0);  // tasks still outstanding
  r.task_ended(0, "lost: x");
  r.accept(1, {});
  EXPECT_FALSE(r.complete());
  EXPECT_EQ(r.replacements_needed(), 1);
  EXPECT_TRUE(r.was_tried(0));
  r.task_sent(2, 10, {});
  EXPECT_EQ(r.replacements_needed(), 0);
  r.accept(2, {});
  EXPECT_TRUE(r.complete());
  RoundMetrics m;
  r.fill(&m);
  EXPECT_EQ(m.sampled, (std::vector<int>{0, 1, 2}));
}

TEST(SyncRoundTest, TimeOutEndsOutstandingTasksAndNamesTheShortfall) {
  SyncRound r(1, 3);
  for (int id : {0, 1, 2, 3}) r.task_sent(id, 10, {});
  r.accept(0, {});
  r.task_ended(1, "lost: silent");
  r.task_ended(2, "error: bad");
  r.time_out();
  EXPECT_EQ(r.outstanding(), 0);
  EXPECT_FALSE(r.complete());
  EXPECT_EQ(r.shortfall(), "1 of --min-fit 3 answers from 4 tasks: 1 lost, 1 timed out, 1 errors");
}

TEST(SyncRoundTest, EndingATaskTwiceOrAfterItsAnswerChangesNothing) {
  SyncRound r(1, 1);
  r.task_sent(0, 10, {});
  r.accept(0, {});
  r.task_ended(0, "lost: late");
  RoundMetrics m;
  r.fill(&m);
  EXPECT_EQ(m.clients[0].status, "ok");
  EXPECT_EQ(m.lost, 0);
}

}  // namespace
}  // namespace flotilla
