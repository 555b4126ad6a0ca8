// CURVE authentication and encryption on real processes: keys made with flotilla-keys, an
// allowlist giving each key its client ids; strangers, unknown keys and a known key claiming
// another's ids are refused, and the keyed run completes. Plus the --insecure and
// non-loopback-bind rules.
#include <gtest/gtest.h>

#include <thread>

#include "cluster.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::ClusterKeys;
using flotilla::testing::LocalCluster;
using flotilla::testing::make_keys;
using flotilla::testing::read_file;
using flotilla::testing::small_experiment_flags;
using nlohmann::json;

std::vector<std::string> security_flags(int rounds, std::vector<std::string> more) {
  std::vector<std::string> args = {"--clients", "2", "--rounds", std::to_string(rounds), "--registration-timeout",
                                   "90"};
  const auto experiment = small_experiment_flags(2);
  args.insert(args.end(), experiment.begin(), experiment.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(SecurityTest, OnlyAllowedKeysRegisterOnlyTheirIds) {
  LocalCluster cluster("curve");
  const ClusterKeys keys = make_keys(cluster, {"site-a", "site-b"}, {"rogue"});
  ASSERT_TRUE(keys.ok);
  ASSERT_TRUE(cluster.start_coordinator(
      security_flags(2, {"--curve-secret-key", keys.coordinator_secret(), "--allowlist", keys.allowlist})));
  const std::vector<std::string> give_up = {"--reconnect-timeout", "4"};

  // No key at all: the CURVE handshake fails, nothing reaches the coordinator.
  auto& stranger = cluster.start_client("0", give_up, "stranger");
  // A key the allowlist does not know: the ZAP handler refuses it.
  std::vector<std::string> rogue = keys.client_flags("rogue");
  rogue.insert(rogue.end(), give_up.begin(), give_up.end());
  auto& unknown = cluster.start_client("0", rogue, "unknown-key");
  // A known key claiming an id it was not given.
  std::vector<std::string> thief = keys.client_flags("site-b");
  thief.insert(thief.end(), give_up.begin(), give_up.end());
  auto& claims_other = cluster.start_client("0", thief, "claims-other");

  EXPECT_EQ(stranger.wait_for(60s), 1) << stranger.log();
  EXPECT_NE(stranger.log().find("one side uses CURVE and the other does not"), std::string::npos) << stranger.log();
  EXPECT_EQ(unknown.wait_for(60s), 1) << unknown.log();
  EXPECT_NE(unknown.log().find("refused this client's key"), std::string::npos) << unknown.log();
  EXPECT_EQ(claims_other.wait_for(60s), 1) << claims_other.log();
  EXPECT_NE(claims_other.log().find("'site-b' may not register client id 0"), std::string::npos) << claims_other.log();

  cluster.start_client("0", keys.client_flags("site-a"), "site-a");
  cluster.start_client("1", keys.client_flags("site-b"), "site-b");
  ASSERT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), 2u);
  for (const json& r : rounds) EXPECT_EQ(r["answered"], 2);
  const json config = json::parse(read_file(cluster.run_dir() + "/config.json"));
  EXPECT_EQ(config["security"], "curve");
  const std::string log = cluster.coordinator_log();
  EXPECT_NE(log.find("is not in the allowlist"), std::string::npos) << log;
  EXPECT_NE(log.find("refusing registration"), std::string::npos) << log;
}

TEST(SecurityTest, NonLoopbackBindWithoutKeysRefusesToStart) {
  LocalCluster cluster("no-keys");
  ChildProcess coordinator({testing::kBinDir + "/flotilla-coordinator", "--bind", "tcp://*:0", "--clients", "1"},
                           cluster.dir() + "/coordinator.log");
  EXPECT_EQ(coordinator.wait_for(60s), 2) << coordinator.log();
  EXPECT_NE(coordinator.log().find("--curve-secret-key"), std::string::npos) << coordinator.log();
  EXPECT_NE(coordinator.log().find("--insecure"), std::string::npos) << coordinator.log();
}

TEST(SecurityTest, AnInsecureRunIsMarkedAsSuch) {
  LocalCluster cluster("insecure");
  ASSERT_TRUE(cluster.start_coordinator(security_flags(1, {"--insecure"}), "tcp://0.0.0.0:*"));
  // The endpoint file names the wildcard address; clients reach it on loopback.
  const std::string port = cluster.endpoint().substr(cluster.endpoint().rfind(':') + 1);
  cluster.use_endpoint("tcp://127.0.0.1:" + port);
  for (const char* id : {"0", "1"}) cluster.start_client(id);
  ASSERT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  const json config = json::parse(read_file(cluster.run_dir() + "/config.json"));
  EXPECT_EQ(config["security"], "insecure");
  EXPECT_NE(cluster.coordinator_log().find("INSECURE"), std::string::npos) << cluster.coordinator_log();
}

}  // namespace
}  // namespace flotilla
