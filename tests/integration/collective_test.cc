// Decentralised rounds (--topology ring-allreduce | gossip) on real processes, one client per
// process, each listening for its peers on an ipc:// endpoint (synthetic data, the small MLP):
// the ring's average is the star's FedAvg to float rounding; gradient sync keeps the replicas
// equal; gossip mixes with the graph's neighbours only and warns when the graph cannot reach
// consensus; a dead member fails the round instead of hanging it; CURVE keys work between peers.
// Traffic is checked against the formulas, never timing.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cluster.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::ClusterKeys;
using flotilla::testing::LocalCluster;
using flotilla::testing::make_keys;
using flotilla::testing::policy_of;
using flotilla::testing::small_experiment_flags;
using nlohmann::json;

std::vector<std::string> collective_flags(int clients, int rounds, const std::vector<std::string>& more) {
  std::vector<std::string> args = {
      "--clients", std::to_string(clients), "--rounds", std::to_string(rounds), "--registration-timeout",
      "90",        "--round-timeout",       "90",       "--checkpoint-every",   "0"};
  const auto experiment = small_experiment_flags(1);
  args.insert(args.end(), experiment.begin(), experiment.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Client `id` in a process of its own, listening for its peers in the cluster's folder.
ChildProcess& start_member(LocalCluster& cluster, int id, std::vector<std::string> more = {}) {
  more.insert(more.begin(), {"--peer-bind", "ipc://" + cluster.dir() + "/peer-" + std::to_string(id)});
  return cluster.start_client(std::to_string(id), more);
}

// Runs `clients` members to the end; the run's metrics.jsonl (empty, with a failure, otherwise).
std::vector<json> collective_run(const std::string& name, int clients, int rounds, const std::vector<std::string>& more,
                                 std::string* coordinator_log = nullptr) {
  LocalCluster cluster(name);
  if (!cluster.start_coordinator(collective_flags(clients, rounds, more))) return {};
  for (int id = 0; id < clients; ++id) start_member(cluster, id);
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  if (coordinator_log) *coordinator_log = cluster.coordinator_log();
  return cluster.rounds();
}

// Measured peer bytes are the payload of the formula plus framing and headers: a few percent at most.
void expect_traffic_matches_formula(const json& round, double slack) {
  for (const auto& c : round["clients"]) {
    const double measured = policy_of(c, "peer_bytes_sent"), formula = policy_of(c, "peer_bytes_sent_formula");
    EXPECT_GE(measured, formula) << c.dump();
    EXPECT_LE(measured, formula * (1 + slack)) << c.dump();
  }
}

// 1. The ring's weighted mean of the same trained models is FedAvg's, to float rounding: round 1
// of a ring run and of a star collective_run (same seed, same clients, same local training) end with models
// of the same test loss and accuracy. Each member sends 2(N-1)/N x the model, and all end equal.
TEST(CollectiveTest, RingAllReduceAveragesAsFedAvgDoes) {
  const auto ring = collective_run("ring-model", 3, 2, {"--topology", "ring-allreduce"});
  LocalCluster star_cluster("ring-star-reference");
  ASSERT_TRUE(star_cluster.start_coordinator(collective_flags(3, 1, {})));
  for (int id = 0; id < 3; ++id) star_cluster.start_client(std::to_string(id));
  ASSERT_EQ(star_cluster.wait_coordinator(180s), 0) << star_cluster.coordinator_log();
  const auto star = star_cluster.rounds();
  ASSERT_EQ(ring.size(), 2u);
  ASSERT_EQ(star.size(), 1u);
  EXPECT_EQ(ring[0]["aggregation"], "ring-allreduce");
  EXPECT_NEAR(ring[0]["test_loss"].get<double>(), star[0]["test_loss"].get<double>(), 1e-4)
      << "ring: " << ring[0].dump() << "\nstar: " << star[0].dump();
  EXPECT_NEAR(ring[0]["test_accuracy"].get<double>(), star[0]["test_accuracy"].get<double>(), 0.01);
  for (const auto& round : ring) {
    SCOPED_TRACE("round " + round["round"].dump());
    EXPECT_EQ(round["answered"], 3);
    EXPECT_EQ(policy_of(round, "consensus_distance"), 0) << "every member ends the all-gather with the same bits";
    const double model_bytes = policy_of(round, "model_bytes");
    EXPECT_NEAR(policy_of(round, "peer_bytes_sent_formula_per_client"), 2.0 * 2 / 3 * model_bytes, 1);
    expect_traffic_matches_formula(round, 0.02);
  }
  // Round 2 goes on from the clients' own models: the coordinator sends no model then.
  EXPECT_LT(ring[1]["bytes_sent"].get<double>(), ring[0]["bytes_sent"].get<double>() / 10) << ring[1].dump();
}

// 2. Serverless synchronous data-parallel SGD: the gradients are all-reduced at every step, so the
// members take the same steps and never part (the coordinator checks their models bit for bit),
// and the loss falls as training goes on. The traffic is the ring's per step.
TEST(CollectiveTest, GradientSyncKeepsEveryReplicaEqual) {
  const auto rounds =
      collective_run("ring-gradient", 3, 2, {"--topology", "ring-allreduce", "--collective-sync", "gradient"});
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& round : rounds) {
    SCOPED_TRACE("round " + round["round"].dump());
    EXPECT_EQ(round["answered"], 3) << round.dump();
    EXPECT_EQ(policy_of(round, "consensus_distance"), 0);
    std::vector<int64_t> steps;
    for (const auto& c : round["clients"]) {
      steps.push_back(c["local_steps"].get<int64_t>());
      EXPECT_GT(policy_of(c, "gradient_bytes"), 0) << c.dump();
    }
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_GT(steps[0], 1);
    EXPECT_EQ(steps[0], steps[1]);
    EXPECT_EQ(steps[0], steps[2]);
    // Per-step messages are small, so framing weighs more than in a model average.
    expect_traffic_matches_formula(round, 0.10);
    EXPECT_GT(policy_of(round, "peer_bytes_sent_per_client"), steps[0] * policy_of(round, "model_bytes"))
        << "2(N-1)/N x the gradients at every step";
  }
  EXPECT_LT(rounds[1]["mean_train_loss"].get<double>(), rounds[0]["mean_train_loss"].get<double>());
  EXPECT_GT(rounds[1]["test_accuracy"].get<double>(), 0.2) << "10 classes: better than chance";
}

// 3. Gossip on a ring of 4: each member sends its model to its 2 neighbours only, each member's
// own accuracy is recorded beside the average's, and the models stay close but distinct.
TEST(CollectiveTest, GossipMixesWithNeighboursOnly) {
  const auto rounds =
      collective_run("gossip-ring", 4, 3, {"--topology", "gossip", "--graph", "ring", "--mixing", "metropolis"});
  ASSERT_EQ(rounds.size(), 3u);
  for (const auto& round : rounds) {
    SCOPED_TRACE("round " + round["round"].dump());
    EXPECT_EQ(round["aggregation"], "gossip");
    const double model_bytes = policy_of(round, "model_bytes");
    EXPECT_NEAR(policy_of(round, "peer_bytes_sent_formula_per_client"), 2 * model_bytes, 1) << "degree 2";
    expect_traffic_matches_formula(round, 0.02);
    const double spread = policy_of(round, "consensus_distance");
    EXPECT_GT(spread, 0) << "neighbours only: the models are not all equal";
    EXPECT_TRUE(std::isfinite(spread));
    for (const auto& c : round["clients"]) {
      const double accuracy = policy_of(c, "test_accuracy");
      EXPECT_GE(accuracy, 0);
      EXPECT_LE(accuracy, 1);
    }
  }
}

// 4. A graph in two pieces (random 1-regular on 4 nodes: two pairs) cannot reach consensus: the
// coordinator says so before training, and the run still does what it was asked.
TEST(CollectiveTest, DisconnectedGraphIsWarnedAbout) {
  std::string log;
  const auto rounds = collective_run("gossip-split", 4, 1, {"--topology", "gossip", "--graph", "random-k:k=1"}, &log);
  EXPECT_EQ(rounds.size(), 1u);
  EXPECT_NE(log.find("will not reach consensus"), std::string::npos) << log;
  EXPECT_NE(log.find("2 components"), std::string::npos) << log;
}

// 5. A member that dies in round 2 fails that round, clearly and within the collective timeout,
// rather than hanging the others; the round is recorded as failed and the coordinator exits
// non-zero.
TEST(CollectiveTest, DeadMemberFailsTheRoundInsteadOfHangingIt) {
  LocalCluster cluster("ring-dead");
  ASSERT_TRUE(cluster.start_coordinator(collective_flags(3, 3,
                                                         {"--topology", "ring-allreduce", "--collective-timeout", "3",
                                                          "--peer-timeout", "3", "--heartbeat-interval", "0.5"})));
  start_member(cluster, 0);
  start_member(cluster, 1, {"--crash-at-round", "2"});
  start_member(cluster, 2);
  const int code = cluster.wait_coordinator(120s, 5s);
  EXPECT_NE(code, 0) << cluster.coordinator_log();
  EXPECT_NE(code, -1) << "the coordinator hung: " << cluster.coordinator_log();
  const std::string log = cluster.coordinator_log();
  EXPECT_NE(log.find("a collective needs every member"), std::string::npos) << log;
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 2u) << "round 1 done, round 2 failed";
  EXPECT_EQ(rounds[0]["status"], "ok");
  EXPECT_NE(rounds[1]["status"].get<std::string>().find("failed"), std::string::npos) << rounds[1].dump();
}

// 6. With CURVE keys the members authenticate each other with the keys of the coordinator's
// allowlist, as the star does, and the ring completes.
TEST(CollectiveTest, RingRunsWithCurveKeysBetweenPeers) {
  LocalCluster cluster("ring-curve");
  const ClusterKeys keys = make_keys(cluster, {"site-a", "site-b"});
  ASSERT_TRUE(keys.ok);
  ASSERT_TRUE(cluster.start_coordinator(collective_flags(2, 2,
                                                         {"--topology", "ring-allreduce", "--curve-secret-key",
                                                          keys.coordinator_secret(), "--allowlist", keys.allowlist})));
  start_member(cluster, 0, keys.client_flags("site-a"));
  start_member(cluster, 1, keys.client_flags("site-b"));
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& round : rounds) {
    EXPECT_EQ(round["answered"], 2) << round.dump();
    EXPECT_EQ(policy_of(round, "consensus_distance"), 0);
    // CURVE adds its own framing to each message; the payload is still the formula's.
    expect_traffic_matches_formula(round, 0.05);
  }
}

}  // namespace
}  // namespace flotilla
