// Differential privacy on real processes: a central DP-FedAvg run reports the accountant's epsilon
// after every round (in metrics.jsonl and on the round line) and stops before the round that would
// pass the target; local DP trains; rules that need individual updates are refused at start-up.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cluster.h"
#include "privacy/rdp_accountant.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::LocalCluster;
using flotilla::testing::small_experiment_flags;

constexpr int kDpClients = 4;
constexpr double kSamplingRate = 0.5, kNoiseMultiplier = 1.0;

std::vector<std::string> dp_flags(const std::string& mode, const std::vector<std::string>& more) {
  std::vector<std::string> args = {
      "--clients", std::to_string(kDpClients), "--fraction", "0.5",           "--rounds",           "8", "--dp", mode,
      "--dp-opt",  "noise_multiplier=1",       "--dp-opt",   "clip_norm=0.5", "--checkpoint-every", "0"};
  auto experiment = small_experiment_flags(1);
  args.insert(args.end(), experiment.begin(), experiment.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

double central_epsilon_after(int rounds) {
  RdpAccountant accountant;
  accountant.compose(kSamplingRate, kNoiseMultiplier, rounds);
  return accountant.epsilon(1e-5);
}

TEST(PrivacyRunTest, CentralDpReportsEpsilonEveryRoundAndStopsBeforeTheTarget) {
  // A target between the epsilon of 3 and 4 rounds: the run stops before round 4 of 8.
  const double target = (central_epsilon_after(3) + central_epsilon_after(4)) / 2;
  LocalCluster cluster("privacy-central");
  ASSERT_TRUE(cluster.start_coordinator(dp_flags("central", {"--dp-opt", "target_epsilon=" + std::to_string(target)})));
  for (int k = 0; k < kDpClients; ++k) cluster.start_client(std::to_string(k));
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 3u) << cluster.coordinator_log();
  for (size_t r = 0; r < rounds.size(); ++r) {
    const auto& policy = rounds[r]["policy"];
    EXPECT_EQ(rounds[r]["status"], "ok");
    EXPECT_NEAR(policy["epsilon"].get<double>(), central_epsilon_after(static_cast<int>(r) + 1), 1e-9);
    EXPECT_DOUBLE_EQ(policy["dp_clip_norm"].get<double>(), 0.5);
    // Noise of z * C over the expected clients qN = 2 on the mean.
    EXPECT_DOUBLE_EQ(policy["dp_noise_stddev"].get<double>(), kNoiseMultiplier * 0.5 / 2);
    // Poisson sampling: every answer is folded in, and no more than the clients there are.
    EXPECT_EQ(policy["dp_updates"].get<int>(), rounds[r]["answered"].get<int>());
    EXPECT_EQ(policy["dp_clipped_by_server"].get<int>(), 0);  // the clients clipped their updates themselves
    EXPECT_LE(rounds[r]["sampled"].size(), static_cast<size_t>(kDpClients));
    EXPECT_TRUE(std::isfinite(rounds[r]["test_accuracy"].get<double>()));
  }
  const std::string log = cluster.coordinator_log();
  EXPECT_NE(log.find("stopping before round 4"), std::string::npos) << log;
  EXPECT_NE(log.find(" eps "), std::string::npos) << log;
  EXPECT_NE(log.find("done 3 rounds"), std::string::npos) << log;
}

// The noise key and the adaptive clip norm are in the checkpoints: a run resumed from round 2 adds
// the same noise, samples the same clients and ends with the same model as the run it continues.
TEST(PrivacyRunTest, AResumedCentralRunEndsWithTheSameModel) {
  LocalCluster cluster("privacy-resume");
  std::vector<std::string> flags =
      dp_flags("central", {"--dp-opt", "adaptive=true", "--dp-opt", "count_noise_multiplier=1"});
  flags[5] = "4";                                                                 // --rounds 4
  *std::next(std::find(flags.begin(), flags.end(), "--checkpoint-every")) = "1";  // every round
  ASSERT_TRUE(cluster.start_coordinator(flags));
  for (int k = 0; k < kDpClients; ++k) cluster.start_client(std::to_string(k));
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto uninterrupted = cluster.rounds();
  ASSERT_EQ(uninterrupted.size(), 4u);
  // Back to the state after round 2: the later checkpoints go.
  flotilla::testing::remove_checkpoints_after(cluster.run_dir(), 2);
  ASSERT_TRUE(cluster.start_coordinator({"--resume", cluster.run_dir()}));
  for (int k = 0; k < kDpClients; ++k) cluster.start_client(std::to_string(k), {}, "again-" + std::to_string(k));
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto resumed = cluster.rounds();
  ASSERT_EQ(resumed.size(), 4u);
  EXPECT_NE(cluster.coordinator_log().find("resuming"), std::string::npos) << cluster.coordinator_log();
  for (size_t r = 2; r < 4; ++r) {
    EXPECT_EQ(resumed[r]["sampled"], uninterrupted[r]["sampled"]) << "round " << r + 1;
    EXPECT_EQ(resumed[r]["policy"]["dp_clip_norm"], uninterrupted[r]["policy"]["dp_clip_norm"]) << "round " << r + 1;
  }
  EXPECT_EQ(flotilla::testing::final_model_sha(resumed), flotilla::testing::final_model_sha(uninterrupted));
}

TEST(PrivacyRunTest, LocalDpTrainsAndReportsThePerClientEpsilon) {
  LocalCluster cluster("privacy-local");
  std::vector<std::string> flags = dp_flags("local", {});
  flags[5] = "2";  // --rounds 2
  ASSERT_TRUE(cluster.start_coordinator(flags));
  for (int k = 0; k < kDpClients; ++k) cluster.start_client(std::to_string(k));
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 2u);
  // A client in every round: the Gaussian mechanism with noise z / 2 of its sensitivity, twice.
  RdpAccountant accountant;
  accountant.compose(1.0, kNoiseMultiplier / 2, 2);
  EXPECT_NEAR(rounds[1]["policy"]["epsilon"].get<double>(), accountant.epsilon(1e-5), 1e-9);
  EXPECT_DOUBLE_EQ(rounds[1]["policy"]["dp_noise_stddev"].get<double>(), kNoiseMultiplier * 0.5);
  // The fixed-size sample of --fraction: half of the clients each round.
  EXPECT_EQ(rounds[0]["sampled"].size(), 2u);
}

TEST(PrivacyRunTest, RulesThatNeedEveryUpdateAreRefusedAtStartUp) {
  LocalCluster cluster("privacy-median");
  std::vector<std::string> argv = {flotilla::testing::kBinDir + "/flotilla-coordinator",
                                   "--bind",
                                   "tcp://127.0.0.1:*",
                                   "--out",
                                   cluster.dir() + "/run",
                                   "--aggregator",
                                   "median"};
  const auto flags = dp_flags("central", {});
  argv.insert(argv.end(), flags.begin(), flags.end());
  ChildProcess refused(argv, cluster.dir() + "/median.log");
  EXPECT_EQ(refused.wait_for(60s), 1) << refused.log();
  EXPECT_NE(refused.log().find("--dp cannot run aggregator 'median'"), std::string::npos) << refused.log();
}

}  // namespace
}  // namespace flotilla
