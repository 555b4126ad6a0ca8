#include "launcher/run_progress.h"

#include <gtest/gtest.h>

namespace flotilla {
namespace {

TEST(RunProgress, ReadsTheLiveViewsState) {
  auto p = parse_run_progress(R"({"run": {"status": "training", "rounds": 10},
                                  "round": {"number": 3, "sampled": 10, "done": 7, "elapsed_seconds": 1.5},
                                  "counts": {"clients": 12, "alive": 11},
                                  "estimate": {"left_seconds": 150.2, "mean_round_seconds": 21}, "clients": []})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->status, "training");
  EXPECT_EQ(p->round, 3);
  EXPECT_EQ(p->rounds, 10);
  EXPECT_EQ(p->sampled, 10);
  EXPECT_EQ(p->done, 7);
  EXPECT_EQ(p->clients, 12);
  EXPECT_EQ(p->alive, 11);
  ASSERT_TRUE(p->left_s);
  EXPECT_DOUBLE_EQ(*p->left_s, 150.2);
  auto unknown = parse_run_progress(R"({"run": {"status": "waiting"}, "round": {}, "counts": {},
                                        "estimate": {"left_seconds": null}})");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->left_s);
  for (const char* bad : {"", "[]", "{}", R"({"run": 1, "round": {}, "counts": {}})", "<html>"}) {
    auto refused = parse_run_progress(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("live view"), std::string::npos);
  }
}

TEST(RunProgress, TextSaysRoundClientsElapsedAndTimeLeft) {
  RunProgress p;
  p.status = "training";
  p.round = 3;
  p.rounds = 10;
  p.sampled = 10;
  p.done = 7;
  p.left_s = 150;
  EXPECT_EQ(progress_text(p, 72), "round 3/10  clients 7/10 done  elapsed 1m12s  left ~2m30s");
  p.left_s.reset();
  EXPECT_EQ(progress_text(p, 4.25), "round 3/10  clients 7/10 done  elapsed 4.2s");
  p.status = "waiting";
  p.alive = 2;
  p.clients = 6;
  EXPECT_EQ(progress_text(p, 5), "waiting for clients 2/6  elapsed 5.0s");
  p.status = "finished";
  p.round = 10;
  EXPECT_EQ(progress_text(p, 7322), "round 10/10  finished  elapsed 2h02m");
  EXPECT_EQ(progress_text(std::nullopt, 0.5), "starting  elapsed 0.5s");
}

TEST(RunProgress, ShortDurations) {
  EXPECT_EQ(short_duration(0), "0.0s");
  EXPECT_EQ(short_duration(9.94), "9.9s");
  EXPECT_EQ(short_duration(42.4), "42s");
  EXPECT_EQ(short_duration(60), "1m00s");
  EXPECT_EQ(short_duration(3599.4), "59m59s");
  EXPECT_EQ(short_duration(3600 * 26 + 60 * 5), "26h05m");
  EXPECT_EQ(short_duration(-3), "0.0s");
}

}  // namespace
}  // namespace flotilla
