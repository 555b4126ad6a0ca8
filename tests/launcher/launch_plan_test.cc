#include "launcher/launch_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "tests/launcher/launcher_harness.h"

namespace flotilla {
namespace {

// A bin dir with two stand-in executables: the plan only checks that they can be executed.
class LaunchPlanTest : public ::testing::Test {
 protected:
  LaunchPlanTest() {
    testing::write_script(bin_.file("flotilla-coordinator"), "exit 0\n");
    testing::write_script(bin_.file("flotilla-client"), "exit 0\n");
  }

  LaunchOptions options(int clients) const {
    LaunchOptions o;
    o.clients = clients;
    o.bin_dir = bin_.path();
    return o;
  }

  testing::TempDir bin_;
};

TEST_F(LaunchPlanTest, CoordinatorGetsWiringSharedOptionsThenPassThroughVerbatim) {
  LaunchOptions o = options(10);
  o.processes = 3;
  o.data_dir = "/data";
  o.config = "run.toml";
  o.out_dir = "runs/a";
  o.coordinator_args = {"--rounds", "5", "--aggregator-opt", "k=v"};
  auto plan = LaunchPlan::create(o, 8);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->coordinator_argv("/tmp/ep"), (std::vector<std::string>{bin_.file("flotilla-coordinator"),
                                                                         "--bind",
                                                                         "tcp://127.0.0.1:*",
                                                                         "--endpoint-file",
                                                                         "/tmp/ep",
                                                                         "--clients",
                                                                         "10",
                                                                         "--min-clients",
                                                                         "10",
                                                                         "--threads",
                                                                         "2",  // 8 CPUs - 3 x 2
                                                                         "--config",
                                                                         "run.toml",
                                                                         "--data-dir",
                                                                         "/data",
                                                                         "--out",
                                                                         "runs/a",
                                                                         "--rounds",
                                                                         "5",
                                                                         "--aggregator-opt",
                                                                         "k=v"}));
}

TEST_F(LaunchPlanTest, PluginsGoToEveryProcessAndTheStateFolderToEveryClient) {
  LaunchOptions o = options(4);
  o.processes = 2;
  o.plugins = {"a.so", "b.so"};
  o.client_state_dir = "/state";
  o.client_state_memory = "64";
  auto plan = LaunchPlan::create(o, 4);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<std::string> coordinator = plan->coordinator_argv("ep");
  const std::vector<std::string> plugins = {"--plugin", "a.so", "--plugin", "b.so"};
  EXPECT_NE(std::search(coordinator.begin(), coordinator.end(), plugins.begin(), plugins.end()), coordinator.end());
  EXPECT_EQ(std::count(coordinator.begin(), coordinator.end(), "--client-state-dir"), 0);
  EXPECT_EQ(std::count(coordinator.begin(), coordinator.end(), "--client-state-memory"), 0);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::vector<std::string> client = plan->client_argv(i, "tcp://127.0.0.1:1");
    EXPECT_NE(std::search(client.begin(), client.end(), plugins.begin(), plugins.end()), client.end()) << i;
    const std::vector<std::string> state = {"--client-state-dir", "/state"};
    EXPECT_NE(std::search(client.begin(), client.end(), state.begin(), state.end()), client.end()) << i;
    const std::vector<std::string> memory = {"--client-state-memory", "64"};
    EXPECT_NE(std::search(client.begin(), client.end(), memory.begin(), memory.end()), client.end()) << i;
  }
}

TEST_F(LaunchPlanTest, ResumeTakesTheClientsFromTheRunAndPassesResumeNotClientsOrOut) {
  testing::TempDir run;
  {
    std::ofstream config(run.file("config.json"));
    config << "{\"clients\": 6, \"rounds\": 3}";
  }
  LaunchOptions o = options(0);
  o.resume_dir = run.path();
  o.processes = 2;
  auto plan = LaunchPlan::create(o, 4);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->ranges().size(), 2u);
  EXPECT_EQ(plan->ranges().back().last, 5);
  EXPECT_EQ(
      plan->coordinator_argv("ep"),
      (std::vector<std::string>{bin_.file("flotilla-coordinator"), "--bind", "tcp://127.0.0.1:*", "--endpoint-file",
                                "ep", "--resume", run.path(), "--min-clients", "6", "--threads", "1"}));
  o.out_dir = "elsewhere";
  EXPECT_FALSE(LaunchPlan::create(o, 4).ok()) << "--out beside --resume";
  LaunchOptions missing = options(0);
  missing.resume_dir = run.path() + "/nope";
  auto refused = LaunchPlan::create(missing, 4);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no config.json"), std::string::npos) << refused.status();
}

// flotilla-run --resume starts the clients on the run's own --data-dir (config.json's data_dir),
// not the dataset's default place, unless --data-dir is given again; a run of sites' own data
// also gets --local-data and its TorchScript archive back.
TEST_F(LaunchPlanTest, ResumeStartsClientsOnTheRunsOwnDataDir) {
  testing::TempDir run;
  {
    std::ofstream config(run.file("config.json"));
    config << R"({"clients": 2, "rounds": 3, "dataset": "local", "data_dir": "/elsewhere/sites",
                 "model_file": "/models/net.pt"})";
  }
  LaunchOptions o = options(0);
  o.resume_dir = run.path();
  o.processes = 1;
  auto plan = LaunchPlan::create(o, 2);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<std::string> client = plan->client_argv(0, "tcp://127.0.0.1:1");
  auto value_of = [&client](const std::string& flag) {
    auto it = std::find(client.begin(), client.end(), flag);
    return it == client.end() || std::next(it) == client.end() ? std::string("<absent>") : *std::next(it);
  };
  EXPECT_EQ(value_of("--data-dir"), "/elsewhere/sites");
  EXPECT_EQ(value_of("--model"), "torchscript:/models/net.pt");
  EXPECT_NE(std::find(client.begin(), client.end(), "--local-data"), client.end());

  o.data_dir = "/moved/sites";
  auto moved = LaunchPlan::create(o, 2);
  ASSERT_TRUE(moved.ok()) << moved.status();
  const std::vector<std::string> again = moved->client_argv(0, "tcp://127.0.0.1:1");
  auto it = std::find(again.begin(), again.end(), "--data-dir");
  ASSERT_NE(it, again.end());
  EXPECT_EQ(*std::next(it), "/moved/sites");
  EXPECT_EQ(std::count(again.begin(), again.end(), "--data-dir"), 1);
}

// The progress line polls a live view of its own on loopback; one the user asked for is passed on;
// without either the coordinator's command line is what it always was.
TEST_F(LaunchPlanTest, LiveViewForTheUserOrTheProgressLine) {
  auto live_view_flags = [&](const LaunchOptions& o) {
    auto plan = LaunchPlan::create(o, 2);
    EXPECT_TRUE(plan.ok()) << plan.status();
    std::vector<std::string> argv = plan->coordinator_argv("/tmp/ep", "/tmp/url"), flags;
    for (auto it = argv.begin(); it != argv.end(); ++it)
      if (it->rfind("--live-view", 0) == 0) flags.insert(flags.end(), {*it, *std::next(it)});
    return flags;
  };
  LaunchOptions plain = options(2);
  EXPECT_TRUE(live_view_flags(plain).empty());
  LaunchOptions progress = options(2);
  progress.progress_line = true;
  EXPECT_EQ(live_view_flags(progress),
            (std::vector<std::string>{"--live-view", "127.0.0.1:0", "--live-view-url-file", "/tmp/url"}));
  LaunchOptions asked = options(2);
  asked.live_view = "0.0.0.0:8080";
  asked.coordinator_args = {"--live-view-token-file", "/keys/token"};
  EXPECT_EQ(live_view_flags(asked), (std::vector<std::string>{"--live-view", "0.0.0.0:8080", "--live-view-url-file",
                                                              "/tmp/url", "--live-view-token-file", "/keys/token"}));
  EXPECT_EQ(LaunchPlan::create(asked, 2)->live_view_token_file(), "/keys/token");
}

TEST_F(LaunchPlanTest, KeyFlagsAreReservedForTheLauncher) {
  for (const char* flag : {"--curve-secret-key", "--allowlist", "--insecure", "--resume", "--live-view-url-file"}) {
    LaunchOptions o = options(2);
    o.coordinator_args = {flag, "x"};
    auto plan = LaunchPlan::create(o, 2);
    ASSERT_FALSE(plan.ok()) << flag;
    EXPECT_NE(plan.status().message().find("set by flotilla-run itself"), std::string::npos) << plan.status();
  }
}

TEST_F(LaunchPlanTest, ClientsGetTheirRangeAndOnlyTheSharedOptions) {
  LaunchOptions o = options(10);
  o.processes = 3;
  o.device = "cpu";
  o.log_level = "warning";
  o.coordinator_args = {"--rounds", "5"};
  auto plan = LaunchPlan::create(o, 6);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->client_argv(1, "tcp://127.0.0.1:4000"),
            (std::vector<std::string>{bin_.file("flotilla-client"), "--connect", "tcp://127.0.0.1:4000", "--client-ids",
                                      "4-6", "--threads", "2", "--device", "cpu", "--log-level", "warning"}));
  EXPECT_EQ(plan->client_name(0), "clients 0-3");
  EXPECT_EQ(plan->client_name(2), "clients 7-9");
}

// Decentralised rounds: one client per process by default, each listening for its peers on an
// ipc:// path in the launcher's folder; another process count is refused naming the rule.
TEST_F(LaunchPlanTest, DecentralisedTopologyGivesEachClientAProcessAndAPeerEndpoint) {
  LaunchOptions o = options(3);
  o.coordinator_args = {"--topology", "ring-allreduce", "--rounds", "2"};
  auto plan = LaunchPlan::create(o, 6);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->decentralised());
  ASSERT_EQ(plan->ranges().size(), 3u);
  EXPECT_EQ(plan->client_argv(2, "tcp://127.0.0.1:4000", "/tmp/run-x"),
            (std::vector<std::string>{bin_.file("flotilla-client"), "--connect", "tcp://127.0.0.1:4000", "--client-ids",
                                      "2", "--threads", "2", "--peer-bind", "ipc:///tmp/run-x/peer-2"}));

  o.coordinator_args = {"--topology=gossip"};
  o.processes = 2;
  auto refused = LaunchPlan::create(o, 6);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--topology gossip needs one client per process"), std::string::npos)
      << refused.status();

  o.coordinator_args = {"--topology", "star"};
  auto star = LaunchPlan::create(o, 6);
  ASSERT_TRUE(star.ok()) << star.status();
  EXPECT_FALSE(star->decentralised());
  const auto argv = star->client_argv(0, "tcp://127.0.0.1:4000", "/tmp/run-x");
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--peer-bind"), argv.end());
}

TEST_F(LaunchPlanTest, DefaultsProcessesThreadsAndPort) {
  auto plan = LaunchPlan::create(options(10), 8);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->ranges().size(), 4u);       // min(clients, 4)
  EXPECT_EQ(plan->client_threads(), 2);       // 8 CPUs over 4 client processes
  EXPECT_EQ(plan->coordinator_threads(), 1);  // none left: at least one

  LaunchOptions three = options(3);
  three.processes = 3;
  auto spare = LaunchPlan::create(three, 8);
  ASSERT_TRUE(spare.ok()) << spare.status();
  EXPECT_EQ(spare->client_threads(), 2);       // 8 / 3
  EXPECT_EQ(spare->coordinator_threads(), 2);  // the 2 CPUs the clients leave
  EXPECT_EQ(plan->bind_endpoint(), "tcp://127.0.0.1:*");

  auto small = LaunchPlan::create(options(2), 1);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->ranges().size(), 2u);
  EXPECT_EQ(small->client_threads(), 1);  // never 0
  EXPECT_EQ(small->coordinator_threads(), 1);
  EXPECT_EQ(small->client_name(1), "client 1");
}

TEST_F(LaunchPlanTest, ExplicitThreadsMinClientsAndPort) {
  LaunchOptions o = options(4);
  o.threads = 3;
  o.min_clients = 2;
  o.port = "5555";
  auto plan = LaunchPlan::create(o, 64);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->client_threads(), 3);
  EXPECT_EQ(plan->coordinator_threads(), 3);
  EXPECT_EQ(plan->bind_endpoint(), "tcp://127.0.0.1:5555");
  const auto argv = plan->coordinator_argv("ep");
  EXPECT_EQ(argv[8], "2");  // --min-clients 2
}

TEST_F(LaunchPlanTest, RejectsBadValues) {
  auto expect_invalid = [&](LaunchOptions o, const std::string& fragment) {
    auto plan = LaunchPlan::create(o, 4);
    ASSERT_FALSE(plan.ok()) << fragment;
    EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(plan.status().message().find(fragment), std::string::npos) << plan.status();
  };
  expect_invalid(options(0), "--clients");
  LaunchOptions o = options(2);
  o.processes = 3;
  expect_invalid(o, "--processes");
  o = options(2);
  o.min_clients = 3;
  expect_invalid(o, "--min-clients");
  o = options(2);
  o.port = "70000";
  expect_invalid(o, "--port");
  o = options(2);
  o.log_level = "loud";
  expect_invalid(o, "--log-level");
  o = options(2);
  o.stop_timeout_s = 0;
  expect_invalid(o, "--stop-timeout");
  for (const char* reserved : {"--bind", "--endpoint-file=x", "--connect", "--client-ids"}) {
    o = options(2);
    o.coordinator_args = {"--rounds", "2", reserved, "x"};
    expect_invalid(o, "set by flotilla-run");
  }
}

TEST_F(LaunchPlanTest, MissingBinaryIsNotFound) {
  testing::TempDir empty;
  LaunchOptions o = options(2);
  o.bin_dir = empty.path();
  auto plan = LaunchPlan::create(o, 4);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kNotFound);
  EXPECT_NE(plan.status().message().find("flotilla-coordinator"), std::string::npos);
}

TEST(LaunchPlanHelpers, CpusAndExecutableDir) {
  EXPECT_GE(available_cpus(), 1);
  auto dir = executable_dir();
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_FALSE(dir->empty());
}

}  // namespace
}  // namespace flotilla
