// Algorithms with a client half, on real processes: every built-in algorithm is bit-reproducible
// and trains differently from FedAvg; their extras travel and count as traffic; a client that
// lacks an algorithm's plugin refuses its tasks naming it; and an update whose extras do not fit
// the server half is rejected for that round while the run goes on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cluster.h"
#include "protocol/messages.h"
#include "rogue_client.h"

namespace flotilla {
namespace {

using flotilla::testing::final_model_sha;

using namespace std::chrono_literals;
using flotilla::testing::LocalCluster;
using flotilla::testing::RogueClient;
using flotilla::testing::small_experiment_flags;
using nlohmann::json;

constexpr int kAlgorithmClients = 2, kAlgorithmRounds = 3;

// Replaces the value of `flag` in `args` (a flag may be given once).
void set_flag(std::vector<std::string>& args, const std::string& flag, const std::string& value) {
  const auto it = std::find(args.begin(), args.end(), flag);
  ASSERT_NE(it, args.end()) << flag;
  *std::next(it) = value;
}

std::vector<std::string> algorithm_flags(const std::string& aggregator, int clients = kAlgorithmClients) {
  std::vector<std::string> args = {
      "--clients", std::to_string(clients), "--rounds", std::to_string(kAlgorithmRounds), "--aggregator", aggregator};
  // The synthetic problem is IID; a Dirichlet split gives the client halves drift to act on.
  auto experiment = small_experiment_flags(2);
  set_flag(experiment, "--partitioner", "dirichlet");
  args.insert(args.end(), experiment.begin(), experiment.end());
  args.insert(args.end(), {"--alpha", "0.5", "--checkpoint-every", "0"});
  return args;
}

// One run of `aggregator`; its metrics.
std::vector<json> algorithm_run(const std::string& aggregator, const std::string& name) {
  LocalCluster cluster(name);
  EXPECT_TRUE(cluster.start_coordinator(algorithm_flags(aggregator)));
  for (int k = 0; k < kAlgorithmClients; ++k) cluster.start_client(std::to_string(k));
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  return cluster.rounds();
}

const std::vector<json>& fedavg_run() {
  static const std::vector<json> rounds = algorithm_run("fedavg", "algorithms-fedavg");
  return rounds;
}

class AlgorithmRunTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AlgorithmRunTest, TwoRunsWithOneSeedEndWithTheSameModelUnlikeFedAvgs) {
  const std::string algorithm = GetParam();
  const auto first = algorithm_run(algorithm, "algorithms-" + algorithm + "-a");
  const auto second = algorithm_run(algorithm, "algorithms-" + algorithm + "-b");
  ASSERT_EQ(first.size(), static_cast<size_t>(kAlgorithmRounds));
  ASSERT_EQ(second.size(), static_cast<size_t>(kAlgorithmRounds));
  for (const auto& round : first) {
    EXPECT_EQ(round["status"], "ok");
    EXPECT_TRUE(std::isfinite(round["test_accuracy"].get<double>()));
    for (const auto& c : round["clients"]) EXPECT_GT(c["local_steps"].get<int64_t>(), 0) << c;
  }
  EXPECT_EQ(final_model_sha(first), final_model_sha(second)) << algorithm << " is not reproducible";
  EXPECT_NE(final_model_sha(first), final_model_sha(fedavg_run())) << algorithm << "'s client half changed nothing";
}

INSTANTIATE_TEST_SUITE_P(Builtins, AlgorithmRunTest,
                         ::testing::Values("fedprox", "scaffold", "fednova", "feddyn", "moon"));

int64_t bytes_of_round(const json& round, const char* key) { return round[key].get<int64_t>(); }

// SCAFFOLD's control variates are model-sized (the MLP has no buffers) and travel both ways: each
// direction carries about twice FedAvg's bytes, every frame counted.
TEST(AlgorithmTrafficTest, ScaffoldsControlVariatesCountInBothDirections) {
  const auto scaffold = algorithm_run("scaffold", "algorithms-traffic");
  const auto& fedavg = fedavg_run();
  ASSERT_EQ(scaffold.size(), fedavg.size());
  for (size_t r = 0; r < scaffold.size(); ++r) {
    for (const char* key : {"bytes_sent", "bytes_received"}) {
      const double ratio = static_cast<double>(bytes_of_round(scaffold[r], key)) / bytes_of_round(fedavg[r], key);
      EXPECT_GT(ratio, 1.95) << key << " round " << r + 1;
      EXPECT_LT(ratio, 2.05) << key << " round " << r + 1;
    }
  }
}

TEST(ClientHalfPluginTest, AClientWithoutThePluginRefusesTheTaskNamingIt) {
  LocalCluster cluster("algorithms-missing-plugin");
  auto args = algorithm_flags("fedcm", 1);
  set_flag(args, "--momentum", "0");  // FedCM's global direction replaces local momentum
  args.insert(args.end(), {"--plugin", FEDCM_PLUGIN, "--round-timeout", "5"});
  ASSERT_TRUE(cluster.start_coordinator(args));
  auto& client = cluster.start_client("0");
  EXPECT_NE(cluster.wait_coordinator(120s), 0) << "the round cannot succeed";
  const std::string log = cluster.coordinator_log();
  EXPECT_NE(log.find("this client has no client half 'fedcm'"), std::string::npos) << log;
  EXPECT_NE(client.log().find("start it with --plugin"), std::string::npos) << client.log();
  ASSERT_FALSE(cluster.rounds().empty());
  EXPECT_NE(cluster.rounds().front()["status"].get<std::string>().find("1 errors"), std::string::npos);
}

TEST(ClientHalfPluginTest, WithThePluginOnBothSidesThePluginsHalfTrains) {
  LocalCluster cluster("algorithms-plugin");
  auto args = algorithm_flags("fedcm", 1);
  set_flag(args, "--momentum", "0");
  args.insert(args.end(), {"--plugin", FEDCM_PLUGIN});
  ASSERT_TRUE(cluster.start_coordinator(args));
  cluster.start_client("0", {"--plugin", FEDCM_PLUGIN});
  EXPECT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  EXPECT_EQ(cluster.rounds().size(), static_cast<size_t>(kAlgorithmRounds));
}

// A hand-driven client 1 that answers every SCAFFOLD task with a good model but bad extras: a
// wrong name, then a NaN, then a wrong shape. Each is rejected for its round, naming the problem;
// client 0's updates carry every round.
TEST(ExtrasValidationTest, UpdatesWithBadExtrasAreRejectedForTheirRoundAndTheRunGoesOn) {
  LocalCluster cluster("algorithms-bad-extras");
  auto args = algorithm_flags("scaffold");
  args.insert(args.end(), {"--min-fit", "1"});
  ASSERT_TRUE(cluster.start_coordinator(args));
  cluster.start_client("0");
  int code = -1;
  {
    RogueClient rogue(cluster.endpoint(), 1, [](const msg::RoundTask& task) {
      msg::ClientUpdate update;
      update.round = task.round;
      update.client_id = 1;
      update.num_samples = 10;
      update.steps = 5;
      update.state = task.state.clone();
      for (const auto& e : task.extras.entries()) {
        const std::string name = "delta_c/" + e.name.substr(e.name.find('/') + 1);
        at::Tensor t = e.tensor.clone();
        if (task.round == 1 && update.extras.empty()) {
          update.extras.add("delta_c/bogus", t);
          continue;
        }
        if (task.round == 2 && update.extras.empty()) t.view(-1)[0] = NAN;
        if (task.round == 3 && update.extras.empty()) t = t.view(-1);
        update.extras.add(name, t);
      }
      return update;
    });
    code = cluster.wait_coordinator(120s);
  }
  ASSERT_EQ(code, 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), static_cast<size_t>(kAlgorithmRounds));
  const char* expected[] = {"delta_c/bogus", "NaN", "shape"};
  for (int r = 0; r < kAlgorithmRounds; ++r) {
    EXPECT_EQ(rounds[r]["answered"], 1) << rounds[r];
    for (const auto& c : rounds[r]["clients"]) {
      if (c["client_id"] != 1) continue;
      const std::string status = c["status"];
      EXPECT_EQ(status.rfind("error: extras", 0), 0u) << status;
      EXPECT_NE(status.find(expected[r]), std::string::npos) << "round " << r + 1 << ": " << status;
    }
  }
}

}  // namespace
}  // namespace flotilla
