// --mode async on real processes (synthetic data, the small MLP): a virtual-clock run repeats bit
// for bit, FedBuff with K = N from one version is synchronous FedAvg, FedAsync's staleness weights
// and the real clock's delays are what the options say, hostile updates and lost clients end their
// task and nothing else, a killed run resumes with its versions numbered on, an answer naming
// another task is dropped, and bad flags are refused naming the problem. No timing is asserted.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>
#include <thread>
#include <utility>

#include "cluster.h"
#include "protocol/messages.h"
#include "rogue_client.h"

namespace flotilla {
namespace {

using flotilla::testing::kClientLiveness;

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::count_of;
using flotilla::testing::LocalCluster;
using flotilla::testing::make_temp_dir;
using flotilla::testing::policy_of;
using flotilla::testing::RogueClient;
using flotilla::testing::small_experiment_flags;
using nlohmann::json;

// A run of `clients` logical clients for `rounds` versions, one local epoch per task; `more` last.
std::vector<std::string> async_flags(int clients, int rounds, const std::vector<std::string>& more,
                                     const std::string& round_timeout_s = "60") {
  std::vector<std::string> args = {"--clients",
                                   std::to_string(clients),
                                   "--rounds",
                                   std::to_string(rounds),
                                   "--peer-timeout",
                                   "3",
                                   "--heartbeat-interval",
                                   "0.5",
                                   "--registration-timeout",
                                   "60",
                                   "--round-timeout",
                                   round_timeout_s};
  const auto experiment = small_experiment_flags(1);
  args.insert(args.end(), experiment.begin(), experiment.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// --mode async with `async_opts` as --async-opt each.
std::vector<std::string> async_flags(const std::vector<std::string>& async_opts, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--mode", "async"};
  for (const auto& o : async_opts) {
    args.push_back("--async-opt");
    args.push_back(o);
  }
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Runs to the end with clients hosted as `processes` says; the run's metrics.jsonl.
std::vector<json> async_run(const std::string& name, int clients, int rounds, const std::vector<std::string>& more,
                            const std::vector<std::string>& processes) {
  LocalCluster cluster(name);
  EXPECT_TRUE(cluster.start_coordinator(async_flags(clients, rounds, more)));
  for (const auto& ids : processes) cluster.start_client(ids, kClientLiveness);
  EXPECT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  return cluster.rounds();
}

bool is_ok(const json& client) { return client["status"] == "ok"; }

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// Every round is recorded once, numbered 1..rounds.
void expect_rounds_numbered(const std::vector<json>& rounds, int expected) {
  ASSERT_EQ(rounds.size(), static_cast<size_t>(expected));
  for (int r = 0; r < expected; ++r) EXPECT_EQ(rounds[r]["round"], r + 1) << rounds[r].dump();
}

// (client id, staleness) of each applied update of a round, and its failures' (client id, status).
std::vector<std::pair<int, std::string>> applications(const json& round) {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& c : round["clients"]) {
    const std::string what =
        is_ok(c) ? "staleness " + std::to_string(static_cast<int>(policy_of(c, "staleness"))) : c["status"].dump();
    out.emplace_back(c["client_id"].get<int>(), what);
  }
  return out;
}

// 1. Virtual clock (the default): FedBuff K = 2 with 3 tasks in flight over 4 clients in two
// processes gives the same versions, made of the same updates with the same staleness, on every
// run, whatever the real timing.
TEST(AsyncTest, VirtualClockRunRepeatsBitForBit) {
  constexpr int kRounds = 6;
  const auto flags = async_flags({"mode=fedbuff", "buffer_size=2"}, {"--concurrency", "3", "--checkpoint-every", "0"});
  const auto first = async_run("async-repeat-a", 4, kRounds, flags, {"0-1", "2-3"});
  const auto second = async_run("async-repeat-b", 4, kRounds, flags, {"0-1", "2-3"});
  expect_rounds_numbered(first, kRounds);
  expect_rounds_numbered(second, kRounds);
  if (first.size() != second.size()) return;
  bool some_stale = false;
  std::set<std::string> models;
  double last_virtual_time = 0;
  for (int r = 0; r < kRounds; ++r) {
    SCOPED_TRACE("round " + std::to_string(r + 1));
    const json& round = first[r];
    EXPECT_EQ(round["model_sha256"], second[r]["model_sha256"]);
    EXPECT_EQ(applications(round), applications(second[r]));
    models.insert(round["model_sha256"].get<std::string>());
    EXPECT_EQ(round["aggregation"], "asynchronous");
    EXPECT_EQ(policy_of(round, "updates_applied"), 2) << round.dump();
    EXPECT_LE(policy_of(round, "tasks_in_flight"), 3) << round.dump();
    const double virtual_time = policy_of(round, "virtual_time");
    EXPECT_GE(virtual_time, last_virtual_time);
    last_virtual_time = virtual_time;
    double max_staleness = 0;
    int applied = 0;
    for (const auto& c : round["clients"]) {
      EXPECT_TRUE(is_ok(c)) << c.dump();
      if (!is_ok(c)) continue;
      ++applied;
      const double tau = policy_of(c, "staleness");
      EXPECT_EQ(tau, policy_of(c, "applied_at_version") - policy_of(c, "base_version")) << c.dump();
      EXPECT_EQ(policy_of(c, "applied_at_version"), r) << c.dump();  // applied to version r, making r + 1
      EXPECT_GE(tau, 0);
      if (r == 0) {
        EXPECT_EQ(tau, 0) << "round 1 is made from version 0 only: " << c.dump();
      }
      some_stale |= tau >= 1;
      max_staleness = std::max(max_staleness, tau);
    }
    EXPECT_EQ(applied, 2);
    EXPECT_EQ(policy_of(round, "max_staleness"), max_staleness);
  }
  EXPECT_TRUE(some_stale) << "3 tasks in flight for a buffer of 2: some update must come from an older version";
  EXPECT_EQ(models.size(), static_cast<size_t>(kRounds)) << "every version is a new model";
}

// 2. FedBuff with K = N = C: all four tasks start from version 0 and make version 1 together, as
// synchronous FedAvg's round 1 does from the same clients, bit for bit.
TEST(AsyncTest, FedBuffWithKEqualToNIsSynchronousFedAvg) {
  const auto async_rounds =
      async_run("async-fedbuff-k4", 4, 1,
                async_flags({"buffer_size=4"}, {"--concurrency", "4", "--checkpoint-every", "0"}), {"0-1", "2-3"});
  const auto sync_rounds = async_run("async-sync-ref", 4, 1,
                                     {"--mode", "sync", "--fraction", "1", "--checkpoint-every", "0"}, {"0-1", "2-3"});
  ASSERT_EQ(async_rounds.size(), 1u);
  ASSERT_EQ(sync_rounds.size(), 1u);
  EXPECT_EQ(policy_of(async_rounds[0], "updates_applied"), 4) << async_rounds[0].dump();
  EXPECT_EQ(policy_of(async_rounds[0], "max_staleness"), 0) << async_rounds[0].dump();
  EXPECT_EQ(sync_rounds[0]["answered"], 4);
  EXPECT_EQ(async_rounds[0]["model_sha256"], sync_rounds[0]["model_sha256"])
      << "async: " << async_rounds[0].dump() << "\nsync: " << sync_rounds[0].dump();
}

// 3. FedAsync, s(tau) = (tau + 1)^-0.5, real clock: each update is its own version, weighted
// alpha * s(tau) with the default alpha 0.6; clients wait the delay model's delays, client 1 four
// times as long as the others.
TEST(AsyncTest, FedAsyncPolynomialStalenessWithRealDelays) {
  constexpr int kRounds = 8;
  const auto rounds = async_run("async-fedasync-real", 4, kRounds,
                                async_flags({"mode=fedasync", "staleness=polynomial:a=0.5", "clock=real",
                                             "delay=constant:value=0.3;slow=1:factor=4"},
                                            {"--checkpoint-every", "0"}),
                                {"0-1", "2-3"});
  expect_rounds_numbered(rounds, kRounds);
  std::string previous_model;
  for (const auto& round : rounds) {
    SCOPED_TRACE("round " + round["round"].dump());
    EXPECT_EQ(policy_of(round, "updates_applied"), 1) << round.dump();
    EXPECT_FALSE(round["policy"].contains("virtual_time")) << "the real clock has no virtual time";
    const std::string model = round["model_sha256"];
    EXPECT_NE(model, previous_model) << "every FedAsync update makes a new model";
    previous_model = model;
    int applied = 0;
    for (const auto& c : round["clients"]) {
      EXPECT_TRUE(is_ok(c)) << c.dump();
      if (!is_ok(c)) continue;
      ++applied;
      const double tau = policy_of(c, "staleness");
      const double s = policy_of(c, "staleness_weight");
      EXPECT_NEAR(s, std::pow(tau + 1, -0.5), 1e-12) << c.dump();
      EXPECT_NEAR(policy_of(c, "weight"), 0.6 * s, 1e-12) << c.dump();
      const double delay = policy_of(c, "delay_seconds");
      EXPECT_NEAR(delay, c["client_id"] == 1 ? 1.2 : 0.3, 1e-9) << c.dump();
      EXPECT_GE(c["total_seconds"].get<double>(), delay) << "the client waited its delay: " << c.dump();
    }
    EXPECT_EQ(applied, 1);
  }
}

// 4. A hand-driven client 2 answers its first task with a NaN and later ones with a tensor of the
// wrong shape: each such task ends "error: ..." naming the problem, no version counts it, and
// clients 0 and 1 make every version.
TEST(AsyncTest, HostileUpdatesEndTheirTaskOnly) {
  constexpr int kRounds = 5;
  LocalCluster cluster("async-hostile");
  ASSERT_TRUE(cluster.start_coordinator(async_flags(
      3, kRounds, async_flags({"mode=fedbuff", "buffer_size=2"}, {"--concurrency", "3", "--checkpoint-every", "0"}))));
  cluster.start_client("0-1", kClientLiveness);
  int code = -1;
  {
    std::atomic<int> answered{0};
    RogueClient rogue(cluster.endpoint(), 2, [&answered](const msg::RoundTask& task) {
      std::this_thread::sleep_for(50ms);  // a steady trickle, not a flood of refusals
      msg::ClientUpdate update;
      update.round = task.round;
      update.client_id = 2;
      update.num_samples = 10;
      update.steps = 1;
      update.compression = task.compression;
      const bool nan = answered++ == 0;
      bool spoiled = false;
      for (const auto& e : task.state.entries()) {
        at::Tensor t = e.tensor.clone();
        if (!spoiled && t.is_floating_point()) {
          if (nan)
            t.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
          else
            t = at::zeros({t.numel() + 1}, t.options());
          spoiled = true;
        }
        update.state.add(e.name, t);
      }
      return update;
    });
    code = cluster.wait_coordinator(120s);
  }
  ASSERT_EQ(code, 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  expect_rounds_numbered(rounds, kRounds);
  int refused = 0;
  bool saw_nan = false, saw_shape = false;
  for (const auto& round : rounds) {
    SCOPED_TRACE("round " + round["round"].dump());
    EXPECT_EQ(policy_of(round, "updates_applied"), 2) << round.dump();
    EXPECT_EQ(round["answered"], 2);
    int applied = 0;
    for (const auto& c : round["clients"]) {
      const std::string status = c["status"];
      if (c["client_id"] == 2) {
        EXPECT_TRUE(starts_with(status, "error:")) << c.dump();
        EXPECT_FALSE(c["policy"].contains("staleness")) << "a refused update has no staleness: " << c.dump();
        ++refused;
        saw_nan |= status.find("NaN") != std::string::npos;
        saw_shape |= status.find("has shape") != std::string::npos;
      } else {
        EXPECT_EQ(status, "ok") << c.dump();
        applied += status == "ok";
      }
    }
    EXPECT_EQ(applied, 2);
  }
  EXPECT_GE(refused, 2) << "the rogue's tasks are recorded";
  EXPECT_TRUE(saw_nan) << "no refusal names the NaN";
  EXPECT_TRUE(saw_shape) << "no refusal names the shape";
  const double accuracy = rounds.back()["test_accuracy"].get<double>();
  EXPECT_TRUE(std::isfinite(accuracy) && accuracy > 0) << rounds.back().dump();
}

// 5. Real clock, every task a second long: the process hosting client 3 is SIGKILLed mid-run. Its
// task in flight ends "lost: ...", and clients 0-2 make the remaining versions.
TEST(AsyncTest, KilledClientsTaskIsLostAndTheRunGoesOn) {
  constexpr int kRounds = 14;
  LocalCluster cluster("async-lost");
  ASSERT_TRUE(cluster.start_coordinator(
      async_flags(4, kRounds,
                  async_flags({"mode=fedbuff", "buffer_size=2", "clock=real", "delay=constant:value=0.8"},
                              {"--concurrency", "4", "--checkpoint-every", "0"}))));
  cluster.start_client("0-1", kClientLiveness);
  cluster.start_client("2", kClientLiveness);
  cluster.start_client("3", kClientLiveness);
  const size_t killed_after = cluster.wait_for_rounds(2, 60s);
  ASSERT_GE(killed_after, 2u) << cluster.coordinator_log();
  ASSERT_LT(killed_after, static_cast<size_t>(kRounds)) << "the run ended before the kill";
  ::kill(cluster.client("3").pid(), SIGKILL);
  ASSERT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  expect_rounds_numbered(rounds, kRounds);
  int lost = 0, lost_round = 0;
  for (const auto& round : rounds) {
    for (const auto& c : round["clients"]) {
      if (c["client_id"] != 3 || !starts_with(c["status"].get<std::string>(), "lost")) continue;
      ++lost;
      lost_round = round["round"];
      EXPECT_TRUE(c["policy"].contains("task_id")) << c.dump();
      EXPECT_GE(round["lost"].get<int>(), 1) << round.dump();
    }
  }
  for (const auto& round : rounds) {
    for (const auto& c : round["clients"]) {
      if (c["client_id"] != 3 || starts_with(c["status"].get<std::string>(), "lost")) continue;
      EXPECT_EQ(c["status"], "ok") << c.dump();
      EXPECT_LE(round["round"].get<int>(), lost_round) << "client 3 applied after it was lost: " << round.dump();
    }
  }
  EXPECT_EQ(lost, 1) << "the killed client's one task in flight is lost once";
  EXPECT_GT(lost_round, static_cast<int>(killed_after));
  for (const auto& round : rounds) EXPECT_EQ(policy_of(round, "updates_applied"), 2) << round.dump();
  const std::string log = cluster.coordinator_log();
  EXPECT_GE(count_of(log, "lost client process"), 1) << log;
}

// 6. A run checkpointing every version is SIGKILLed after a few, then resumed with --resume and
// two more --rounds: the clients rejoin, and versions go on from the checkpoint's, each recorded
// once.
TEST(AsyncTest, KilledRunResumesWithVersionsNumberedOn) {
  constexpr int kRounds = 8, kMoreRounds = 10;
  const std::vector<std::string> client_flags = {"--peer-timeout",      "3", "--heartbeat-interval", "0.5",
                                                 "--reconnect-timeout", "60"};
  LocalCluster cluster("async-resume");
  ASSERT_TRUE(cluster.start_coordinator(
      async_flags(3, kRounds,
                  async_flags({"mode=fedbuff", "buffer_size=2", "clock=real", "delay=constant:value=0.3"},
                              {"--concurrency", "3", "--checkpoint-every", "1"}))));
  cluster.start_client("0", client_flags);
  cluster.start_client("1-2", client_flags);
  const size_t killed_after = cluster.wait_for_rounds(3, 60s);
  ASSERT_GE(killed_after, 3u) << cluster.coordinator_log();
  ASSERT_LT(killed_after, static_cast<size_t>(kRounds)) << "the run ended before the kill";
  ::kill(cluster.coordinator().pid(), SIGKILL);
  cluster.coordinator().wait_for(10s);
  ASSERT_TRUE(cluster.start_coordinator({"--resume", cluster.run_dir(), "--rounds", std::to_string(kMoreRounds)}));
  ASSERT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  const std::string log = cluster.coordinator_log();
  EXPECT_NE(log.find("resuming"), std::string::npos) << log;
  const auto rounds = cluster.rounds();
  expect_rounds_numbered(rounds, kMoreRounds);
  std::set<std::string> models;
  for (const auto& round : rounds) {
    EXPECT_EQ(policy_of(round, "updates_applied"), 2) << round.dump();
    EXPECT_EQ(round["aggregation"], "asynchronous");
    models.insert(round["model_sha256"].get<std::string>());
  }
  EXPECT_EQ(models.size(), static_cast<size_t>(kMoreRounds)) << "a version repeated after the resume";
}

// 7. An answer naming another task than the one in flight (as from a client still finishing a
// task of a coordinator that ran before a restart: same client, same round, but the other
// coordinator's task id) is dropped before it counts; the task times out and the run goes on.
TEST(AsyncTest, AnswerNamingAnotherTaskIsDropped) {
  // A short --round-timeout: the rogue's task can only end by timing out.
  const auto flags = async_flags(
      3, 3, async_flags({"mode=fedbuff", "buffer_size=2"}, {"--concurrency", "3", "--checkpoint-every", "0"}), "4");
  LocalCluster cluster("async-other-task");
  ASSERT_TRUE(cluster.start_coordinator(flags));
  cluster.start_client("0-1", kClientLiveness);
  std::atomic<int> answered{0};
  int code = -1;
  {
    RogueClient rogue(cluster.endpoint(), 2, [&answered](const msg::RoundTask& task) {
      msg::ClientUpdate update;
      update.round = task.round;
      update.client_id = 2;
      update.num_samples = 10;
      update.steps = 1;
      update.compression = task.compression;
      update.state = task.state.clone();  // a valid model: only the task id is wrong
      update.task_id = task.task_id ^ 1;
      ++answered;
      return update;
    });
    code = cluster.wait_coordinator(120s);
  }
  ASSERT_EQ(code, 0) << cluster.coordinator_log();
  EXPECT_GE(answered.load(), 1);
  const std::string log = cluster.coordinator_log();
  EXPECT_NE(log.find("not the last task this coordinator sent it"), std::string::npos) << log;
  const auto rounds = cluster.rounds();
  expect_rounds_numbered(rounds, 3);
  bool timed_out = false;
  for (const auto& round : rounds)
    for (const auto& c : round["clients"])
      if (c["client_id"] == 2) {
        EXPECT_NE(c["status"], "ok") << "an answer to another task was applied: " << c.dump();
        timed_out |= c["status"] == "timeout";
      }
  EXPECT_TRUE(timed_out) << "the rogue's task is recorded as timed out";
}

// 8. Flags that cannot make an asynchronous run are refused naming the problem: at start with exit
// code 2, or (options only the asynchronous policy reads) as a failed run once the clients are in.
TEST(AsyncTest, BadFlagsAreRefusedNamingTheProblem) {
  const struct {
    std::vector<std::string> flags;
    std::vector<std::string> named;  // each must appear in the coordinator's output
  } cases[] = {
      {{"--mode", "async", "--topology", "gossip"}, {"--mode async", "gossip"}},
      {{"--mode", "async", "--aggregator", "median"}, {"--mode async", "median"}},
      {{"--mode", "async", "--async-opt", "nosuch=1"}, {"nosuch"}},
      {{"--mode", "async", "--async-opt", "concurrency=0"}, {"concurrency"}},
      {{"--mode", "warp"}, {"--mode", "warp"}},
  };
  const std::string bin = FLOTILLA_BIN_DIR;
  const std::string dir = make_temp_dir("flotilla-async-flags");
  int n = 0;
  for (const auto& c : cases) {
    std::string joined;
    for (const auto& f : c.flags) joined += f + " ";
    SCOPED_TRACE(joined);
    const std::string tag = std::to_string(++n);
    const std::string endpoint_file = dir + "/endpoint-" + tag;
    std::vector<std::string> argv = {bin + "/flotilla-coordinator",
                                     "--bind",
                                     "tcp://127.0.0.1:*",
                                     "--endpoint-file",
                                     endpoint_file,
                                     "--out",
                                     dir + "/run-" + tag,
                                     "--clients",
                                     "2",
                                     "--rounds",
                                     "2",
                                     "--registration-timeout",
                                     "30"};
    const auto experiment = small_experiment_flags(1);
    argv.insert(argv.end(), experiment.begin(), experiment.end());
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    ChildProcess coordinator(argv, dir + "/coordinator-" + tag + ".log");
    ASSERT_TRUE(coordinator.started());
    // Refused at start: it exits without binding. Otherwise it waits for its clients: give them.
    std::unique_ptr<ChildProcess> clients;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (coordinator.running() && std::chrono::steady_clock::now() < deadline) {
      const std::string endpoint = flotilla::testing::read_file(endpoint_file);
      if (!endpoint.empty() && endpoint.back() == '\n') {
        clients = std::make_unique<ChildProcess>(
            std::vector<std::string>{bin + "/flotilla-client", "--connect", endpoint.substr(0, endpoint.size() - 1),
                                     "--client-ids", "0-1", "--threads", "1"},
            dir + "/client-" + tag + ".log");
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    const int code = coordinator.wait_for(60s);
    const std::string log = coordinator.log();
    if (clients) {
      EXPECT_EQ(code, 1) << "the run should fail once the clients are in:\n" << log;
      std::printf("  %s: found after the clients registered (exit %d)\n", joined.c_str(), code);
    } else {
      EXPECT_EQ(code, 2) << log;
    }
    for (const auto& word : c.named) EXPECT_NE(log.find(word), std::string::npos) << "'" << word << "' in\n" << log;
  }
}

}  // namespace
}  // namespace flotilla
