// Secure aggregation on real processes: a keyed (CURVE) run with --secagg on ends every round
// with the plain run's model within the stated quantisation bound; what the coordinator received
// of one client is statistically uniform; a client dropping out at any stage leaves a round that
// completes while the threshold holds and fails below it, saying so; DP noise in shares reports
// epsilon; a resumed run restarts the protocol and ends bit-identically; rules that need
// individual updates are refused by name.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "cluster.h"
#include "secagg/fixed_point.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::ClusterKeys;
using flotilla::testing::LocalCluster;
using flotilla::testing::make_keys;
using flotilla::testing::policy_of;
using flotilla::testing::small_experiment_flags;

constexpr int kClients = 5;

std::vector<std::string> run_flags(int rounds, const std::vector<std::string>& more, int checkpoint_every = 1,
                                   int round_timeout = 60) {
  std::vector<std::string> args = {
      "--clients",          std::to_string(kClients),         "--rounds",        std::to_string(rounds),
      "--checkpoint-every", std::to_string(checkpoint_every), "--round-timeout", std::to_string(round_timeout)};
  const auto experiment = small_experiment_flags(1);
  args.insert(args.end(), experiment.begin(), experiment.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// One client process per id, each with `extra` flags (and its own for the ids in `per_client`).
void start_clients(LocalCluster& cluster, const std::vector<std::string>& extra = {},
                   const std::map<int, std::vector<std::string>>& per_client = {}) {
  for (int k = 0; k < kClients; ++k) {
    std::vector<std::string> flags = extra;
    if (auto own = per_client.find(k); own != per_client.end())
      flags.insert(flags.end(), own->second.begin(), own->second.end());
    cluster.start_client(std::to_string(k), flags);
  }
}

std::map<std::string, at::Tensor> load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, at::Tensor> out;
  for (const auto& item : torch::jit::pickle_load(bytes).toGenericDict())
    out[item.key().toStringRef()] = item.value().toTensor();
  return out;
}

std::string checkpoint(const LocalCluster& cluster, int round) {
  char name[64];
  std::snprintf(name, sizeof name, "/checkpoints/round_%04d.pt", round);
  return cluster.run_dir() + name;
}

TEST(SecureAggregationTest, AKeyedRunEndsEveryRoundWithThePlainRunsModelWithinTheBound) {
  constexpr int kRounds = 3;
  LocalCluster plain("secagg-plain");
  ASSERT_TRUE(plain.start_coordinator(run_flags(kRounds, {})));
  start_clients(plain);
  ASSERT_EQ(plain.wait_coordinator(180s), 0) << plain.coordinator_log();

  LocalCluster secure("secagg-keyed");
  std::vector<std::string> names;
  for (int k = 0; k < kClients; ++k) names.push_back("site-" + std::to_string(k));
  const ClusterKeys keys = make_keys(secure, names);
  ASSERT_TRUE(keys.ok);
  const std::string masked_file = secure.dir() + "/masked.bin";
  ASSERT_TRUE(secure.start_coordinator(
      run_flags(kRounds, {"--secagg", "on", "--secagg-opt", "record_masked_input=" + masked_file, "--curve-secret-key",
                          keys.coordinator_secret(), "--allowlist", keys.allowlist})));
  for (int k = 0; k < kClients; ++k) secure.start_client(std::to_string(k), keys.client_flags(names[k]));
  ASSERT_EQ(secure.wait_coordinator(180s), 0) << secure.coordinator_log();

  const auto plain_rounds = plain.rounds(), secure_rounds = secure.rounds();
  ASSERT_EQ(secure_rounds.size(), static_cast<size_t>(kRounds));
  for (int r = 1; r <= kRounds; ++r) {
    SCOPED_TRACE("round " + std::to_string(r));
    const auto& row = secure_rounds[r - 1];
    EXPECT_EQ(row["aggregation"], "secure sum");
    EXPECT_EQ(policy_of(row, "secagg_masked"), kClients);
    EXPECT_EQ(policy_of(row, "secagg_threshold"), 2);  // half of 4 neighbours
    // Per client, what only the client can say; what needs its update is left out.
    for (const auto& client : row["clients"]) {
      EXPECT_GT(client["metrics"]["update_norm"].get<double>(), 0);
      EXPECT_TRUE(client["divergence_to_previous"].is_null());
    }
    // The stated bound: the decoded sum is off by at most n / 2^(f+1) per element, divided by the
    // round's total weight, plus the float32 rounding of the result.
    const int f = static_cast<int>(policy_of(row, "secagg_fraction_bits"));
    double weight = 0;
    for (const auto& client : plain_rounds[r - 1]["clients"]) weight += client["num_samples"].get<double>();
    const double bound = secagg::FixedPoint(f, 1.0).max_sum_error(kClients) / weight;
    const auto a = load_model(checkpoint(plain, r)), b = load_model(checkpoint(secure, r));
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, t] : a) {
      const double error = (t.to(at::kDouble) - b.at(name).to(at::kDouble)).abs().max().item<double>();
      const double ulp = t.to(at::kDouble).abs().max().item<double>() * std::ldexp(1.0, -23);
      EXPECT_LE(error, bound + ulp) << name;
    }
    EXPECT_NEAR(row["test_accuracy"].get<double>(), plain_rounds[r - 1]["test_accuracy"].get<double>(), 1e-9);
  }

  // What the coordinator saw of one client: 64-bit words that look uniform, byte by byte (a
  // chi-square test over 256 values; the encoded update itself, small numbers in two's
  // complement, fails it by orders of magnitude).
  std::ifstream in(masked_file, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 100000u);
  std::vector<double> counts(256, 0.0);
  for (uint8_t b : bytes) counts[b] += 1;
  const double expected = static_cast<double>(bytes.size()) / 256;
  double chi2 = 0;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 340.0) << "chi-square with 255 degrees of freedom (p < 0.0003 beyond 340)";
  // The top byte of each word too: an unmasked encoding would have it 0x00 or 0xff.
  std::vector<double> top(256, 0.0);
  for (size_t i = 7; i < bytes.size(); i += 8) top[bytes[i]] += 1;
  const double top_expected = static_cast<double>(bytes.size() / 8) / 256;
  double top_chi2 = 0;
  for (double c : top) top_chi2 += (c - top_expected) * (c - top_expected) / top_expected;
  EXPECT_LT(top_chi2, 340.0);
}

struct DropoutCase {
  int stage;
  std::string status;  // the dropped client's status in the round
};

// A client drops out at each stage in turn; the round completes over the others (stage 3: it sent
// its input, so it is in the sum), and the run goes on.
TEST(SecureAggregationTest, AClientDroppingOutAtAnyStageLeavesTheRoundToTheOthers) {
  for (const DropoutCase& c :
       {DropoutCase{0, "timeout"}, DropoutCase{1, "dropped: dropped before sharing keys"},
        DropoutCase{2, "dropped: dropped before masking"}, DropoutCase{3, "dropped: dropped before unmasking"}}) {
    SCOPED_TRACE("dropout at stage " + std::to_string(c.stage));
    LocalCluster cluster("secagg-drop-" + std::to_string(c.stage));
    ASSERT_TRUE(cluster.start_coordinator(run_flags(2, {"--secagg", "on", "--secagg-opt", "stage_timeout=2"}, 0, 8)));
    start_clients(cluster, {}, {{3, {"--secagg-dropout", "1:" + std::to_string(c.stage)}}});
    ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
    const auto rounds = cluster.rounds();
    ASSERT_EQ(rounds.size(), 2u);
    EXPECT_EQ(rounds[0]["status"], "ok");
    EXPECT_EQ(policy_of(rounds[0], "secagg_masked"), c.stage == 3 ? kClients : kClients - 1);
    for (const auto& client : rounds[0]["clients"])
      if (client["client_id"] == 3) {
        EXPECT_EQ(client["status"], c.status);
      }
    EXPECT_TRUE(std::isfinite(rounds[1]["test_accuracy"].get<double>()));
  }
}

// A process that dies in the middle of the protocol is noticed by liveness (its connection, its
// silence past --peer-timeout), not by the stage's timeout: the round goes on without waiting.
TEST(SecureAggregationTest, AProcessDyingMidProtocolIsNoticedByLiveness) {
  LocalCluster cluster("secagg-dies");
  ASSERT_TRUE(cluster.start_coordinator(run_flags(
      2, {"--secagg", "on", "--secagg-opt", "stage_timeout=120", "--peer-timeout", "3", "--heartbeat-interval", "0.5"},
      0)));
  start_clients(cluster, flotilla::testing::kClientLiveness, {{2, {"--secagg-dropout", "1:2:exit"}}});
  EXPECT_EQ(cluster.client("2").wait_for(120s), 137) << cluster.client("2").log();
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0]["status"], "ok");
  EXPECT_EQ(policy_of(rounds[0], "secagg_masked"), kClients - 1);
  EXPECT_LT(policy_of(rounds[0], "secagg_seconds"), 60.0);  // far below the 120 s stage timeout
  for (const auto& client : rounds[0]["clients"])
    if (client["client_id"] == 2) {
      EXPECT_EQ(client["status"], "dropped: dropped before masking");
    }
}

TEST(SecureAggregationTest, BelowTheThresholdTheRoundFailsSayingHowManyAgainstIt) {
  LocalCluster cluster("secagg-threshold");
  // t = every one of a client's 4 neighbours: one silent client is one too many.
  ASSERT_TRUE(cluster.start_coordinator(
      run_flags(2, {"--secagg", "on", "--secagg-opt", "threshold=1", "--secagg-opt", "stage_timeout=2"})));
  start_clients(cluster, {}, {{1, {"--secagg-dropout", "1:2"}}});
  EXPECT_EQ(cluster.wait_coordinator(180s), 1) << cluster.coordinator_log();
  const std::string log = cluster.coordinator_log();
  EXPECT_NE(log.find("of its neighbours answered the unmasking with a share of its self-mask, threshold 4"),
            std::string::npos)
      << log;
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0]["status"].get<std::string>().rfind("failed: secure aggregation failed", 0), 0u)
      << rounds[0]["status"];
}

// Central DP with the noise added by the clients in shares: epsilon every round as without
// secure aggregation, the round's noise as DP-FedAvg's. Two processes host the five clients: each
// runs the protocol for every client it hosts.
TEST(SecureAggregationTest, CentralDpAddsItsNoiseInSharesAndReportsEpsilon) {
  LocalCluster cluster("secagg-dp");
  ASSERT_TRUE(cluster.start_coordinator(run_flags(2,
                                                  {"--secagg", "on", "--dp", "central", "--fraction", "1", "--dp-opt",
                                                   "noise_multiplier=1", "--dp-opt", "clip_norm=0.5"},
                                                  0)));
  cluster.start_client("0-2");
  cluster.start_client("3-4");
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& row : rounds) {
    EXPECT_EQ(row["aggregation"], "secure sum");
    EXPECT_GT(policy_of(row, "epsilon"), 0);
    EXPECT_DOUBLE_EQ(policy_of(row, "dp_noise_stddev"), 1.0 * 0.5 / kClients);  // zC over qN = 5
    EXPECT_EQ(policy_of(row, "dp_updates"), kClients);
  }
  EXPECT_GT(policy_of(rounds[1], "epsilon"), policy_of(rounds[0], "epsilon"));
}

// The protocol's state is not checkpointed: a resumed round starts it again from stage 0, with
// fresh keys, and the run ends with the model the uninterrupted run ended with.
TEST(SecureAggregationTest, AResumedRunRestartsTheProtocolAndEndsWithTheSameModel) {
  LocalCluster cluster("secagg-resume");
  ASSERT_TRUE(cluster.start_coordinator(run_flags(4, {"--secagg", "on"})));
  start_clients(cluster);
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto uninterrupted = cluster.rounds();
  ASSERT_EQ(uninterrupted.size(), 4u);
  flotilla::testing::remove_checkpoints_after(cluster.run_dir(), 2);
  ASSERT_TRUE(cluster.start_coordinator({"--resume", cluster.run_dir()}));
  for (int k = 0; k < kClients; ++k) cluster.start_client(std::to_string(k), {}, "again-" + std::to_string(k));
  ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  const auto resumed = cluster.rounds();
  ASSERT_EQ(resumed.size(), 4u);
  EXPECT_EQ(resumed[3]["aggregation"], "secure sum");
  EXPECT_EQ(flotilla::testing::final_model_sha(resumed), flotilla::testing::final_model_sha(uninterrupted));
}

// SCAFFOLD's server step is a weighted mean of the models and a sum of the control-variate deltas:
// under secure aggregation it gets both from the one sum, and the run follows the plain one (the
// sum of delta_c is rounded to float32 before the server adds it, where SCAFFOLD alone sums in
// float64: the models may part in their last bits from round 2 on).
TEST(SecureAggregationTest, ScaffoldGetsItsControlVariatesSummed) {
  std::vector<std::vector<nlohmann::json>> runs;
  std::vector<std::map<std::string, at::Tensor>> models;
  for (bool secure : {false, true}) {
    LocalCluster cluster(secure ? "secagg-scaffold" : "plain-scaffold");
    std::vector<std::string> more = {"--aggregator", "scaffold"};
    if (secure) more.insert(more.end(), {"--secagg", "on"});
    ASSERT_TRUE(cluster.start_coordinator(run_flags(3, more, 1)));
    start_clients(cluster);
    ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
    runs.push_back(cluster.rounds());
    models.push_back(load_model(checkpoint(cluster, 3)));
  }
  ASSERT_EQ(runs[1].size(), 3u);
  EXPECT_EQ(runs[1][0]["aggregation"], "secure sum");
  EXPECT_EQ(runs[0][0]["model_sha256"], runs[1][0]["model_sha256"]);  // round 1: c starts at 0 on both
  for (const auto& [name, t] : models[0]) {
    const double error = (t.to(at::kDouble) - models[1].at(name).to(at::kDouble)).abs().max().item<double>();
    EXPECT_LE(error, 1e-4 * std::max(1.0, t.abs().max().item<double>())) << name;
  }
  EXPECT_NEAR(runs[1][2]["test_accuracy"].get<double>(), runs[0][2]["test_accuracy"].get<double>(), 0.01);
}

TEST(SecureAggregationTest, RulesThatNeedEveryUpdateOrSendExtrasAreRefusedByName) {
  LocalCluster cluster("secagg-refusals");
  for (const auto& [rule, expected] :
       std::vector<std::pair<std::string, std::string>>{{"median", "--secagg cannot run aggregator 'median'"},
                                                        {"krum", "--secagg cannot run aggregator 'krum'"},
                                                        {"fednova", "that its server step does not only add up"}}) {
    std::vector<std::string> argv = {flotilla::testing::kBinDir + "/flotilla-coordinator",
                                     "--bind",
                                     "tcp://127.0.0.1:*",
                                     "--out",
                                     cluster.dir() + "/run-" + rule,
                                     "--aggregator",
                                     rule,
                                     "--secagg",
                                     "on"};
    const auto flags = run_flags(1, {});
    argv.insert(argv.end(), flags.begin(), flags.end());
    ChildProcess refused(argv, cluster.dir() + "/" + rule + ".log");
    EXPECT_EQ(refused.wait_for(60s), 1) << refused.log();
    EXPECT_NE(refused.log().find(expected), std::string::npos) << refused.log();
  }
  std::vector<std::string> argv = {flotilla::testing::kBinDir + "/flotilla-coordinator", "--secagg", "on",
                                   "--compression", "fp16"};
  ChildProcess bad_flags(argv, cluster.dir() + "/compression.log");
  EXPECT_EQ(bad_flags.wait_for(60s), 2) << bad_flags.log();
  EXPECT_NE(bad_flags.log().find("cannot be combined with it"), std::string::npos) << bad_flags.log();
}

}  // namespace
}  // namespace flotilla
