// Resume: a coordinator killed at a random round and resumed with --resume ends with the same
// model SHA-256 as the uninterrupted run, with a stateful aggregator too, and from the previous
// checkpoint when the newest one is corrupt. Clients stay up across the coordinator's restart:
// they notice it is gone, register again when it is back, and the run goes on.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "cluster.h"

namespace flotilla {
namespace {

using flotilla::testing::final_model_sha;

using namespace std::chrono_literals;
using flotilla::testing::LocalCluster;
using flotilla::testing::small_experiment_flags;
using nlohmann::json;

constexpr int kResumeClients = 3, kResumeRounds = 6;

std::vector<std::string> resume_flags(const std::string& aggregator) {
  std::vector<std::string> args = {"--clients",
                                   std::to_string(kResumeClients),
                                   "--rounds",
                                   std::to_string(kResumeRounds),
                                   "--peer-timeout",
                                   "3",
                                   "--heartbeat-interval",
                                   "0.5",
                                   "--aggregator",
                                   aggregator};
  if (aggregator == "fedadam") {
    args.push_back("--aggregator-opt");
    args.push_back("server_lr=0.05");
  }
  const auto experiment = small_experiment_flags(6);
  args.insert(args.end(), experiment.begin(), experiment.end());
  return args;
}

const std::vector<std::string> kClientFlags = {"--peer-timeout",      "3", "--heartbeat-interval", "0.5",
                                               "--reconnect-timeout", "90"};

std::string uninterrupted_sha(const std::string& aggregator) {
  LocalCluster cluster("resume-ref-" + aggregator);
  EXPECT_TRUE(cluster.start_coordinator(resume_flags(aggregator)));
  for (int k = 0; k < kResumeClients; ++k) cluster.start_client(std::to_string(k), kClientFlags);
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  return final_model_sha(cluster.rounds());
}

size_t rounds_recorded(const LocalCluster& cluster) { return cluster.rounds().size(); }

// Kills the coordinator once `kill_after` rounds are recorded, optionally corrupts the newest
// checkpoint, resumes, and returns the finished run's metrics.
std::vector<json> interrupted_run(const std::string& aggregator, int kill_after, bool corrupt_newest,
                                  std::string* log) {
  LocalCluster cluster("resume-" + aggregator);
  EXPECT_TRUE(cluster.start_coordinator(resume_flags(aggregator)));
  for (int k = 0; k < kResumeClients; ++k) cluster.start_client(std::to_string(k), kClientFlags);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (rounds_recorded(cluster) < static_cast<size_t>(kill_after) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ::kill(cluster.coordinator().pid(), SIGKILL);
  cluster.coordinator().wait_for(10s);
  if (corrupt_newest) {
    std::filesystem::path newest;
    for (const auto& e : std::filesystem::directory_iterator(cluster.run_dir() + "/checkpoints"))
      if (e.path().extension() == ".ckpt" && e.path() > newest) newest = e.path();
    EXPECT_FALSE(newest.empty());
    std::filesystem::resize_file(newest, std::filesystem::file_size(newest) / 2);  // torn write
  }
  EXPECT_TRUE(cluster.start_coordinator({"--resume", cluster.run_dir()}));
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  *log = cluster.coordinator_log();
  return cluster.rounds();
}

void expect_each_round_once(const std::vector<json>& rounds) {
  ASSERT_EQ(rounds.size(), static_cast<size_t>(kResumeRounds));
  for (int r = 0; r < kResumeRounds; ++r) EXPECT_EQ(rounds[r]["round"], r + 1);
}

class ResumeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ResumeTest, KilledAtARandomRoundAndResumedEndsWithTheSameModel) {
  const std::string aggregator = GetParam();
  const std::string reference = uninterrupted_sha(aggregator);
  ASSERT_EQ(reference.size(), 64u);
  std::mt19937 rng(std::hash<std::string>()(aggregator));
  const int kill_after = 1 + static_cast<int>(rng() % (kResumeRounds - 2));
  std::string log;
  const auto rounds = interrupted_run(aggregator, kill_after, false, &log);
  expect_each_round_once(rounds);
  EXPECT_EQ(final_model_sha(rounds), reference) << "killed after round " << kill_after << "\n" << log;
  EXPECT_NE(log.find("resuming"), std::string::npos) << log;
}

// SCAFFOLD keeps state on both sides: c in the checkpoint, each c_i in its client, versioned by
// round so that the re-run round reads the state before it.
INSTANTIATE_TEST_SUITE_P(Aggregators, ResumeTest, ::testing::Values("fedavg", "fedadam", "scaffold"));

TEST(ResumeCorruptionTest, ACorruptNewestCheckpointFallsBackToThePreviousOne) {
  const std::string reference = uninterrupted_sha("fedadam");
  std::string log;
  const auto rounds = interrupted_run("fedadam", 3, true, &log);
  expect_each_round_once(rounds);
  EXPECT_EQ(final_model_sha(rounds), reference) << log;
  EXPECT_NE(log.find("skipping checkpoint"), std::string::npos) << log;
}

// A finished run has nothing to train: resumed, it writes its final model again at once, with no
// client started, instead of waiting --registration-timeout for clients only to dismiss them.
TEST(ResumeFinishedTest, ResumingAFinishedRunWritesTheFinalModelWithoutClients) {
  LocalCluster cluster("resume-finished");
  ASSERT_TRUE(cluster.start_coordinator(resume_flags("fedavg")));
  for (int k = 0; k < kResumeClients; ++k) cluster.start_client(std::to_string(k), kClientFlags);
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const std::string final_model = cluster.run_dir() + "/model_final.pt";
  std::ifstream written(final_model, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(written)), {});
  ASSERT_FALSE(before.empty());
  std::filesystem::remove(final_model);

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(cluster.start_coordinator({"--resume", cluster.run_dir(), "--registration-timeout", "120"}));
  ASSERT_EQ(cluster.wait_coordinator(60s), 0) << cluster.coordinator_log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "it waited for clients";
  std::ifstream rewritten(final_model, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(rewritten)), {}), before);
  EXPECT_EQ(cluster.rounds().size(), static_cast<size_t>(kResumeRounds));  // no round recorded twice
  EXPECT_NE(cluster.coordinator_log().find("without clients"), std::string::npos) << cluster.coordinator_log();
}

}  // namespace
}  // namespace flotilla
