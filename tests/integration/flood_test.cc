// Floods and limits against a live coordinator: garbage frames, an oversized frame, a message
// with too many frames, and 10,000 registrations from one socket. The coordinator stays up, its
// memory stays flat (measured), and the run ends with the clean run's model. A registered,
// authenticated peer that floods is throttled and then disconnected, with the same result.
//
// The flood comes while the coordinator waits for its second client (the first one registered),
// so that it lands in the event loop whatever the machine's speed; then the second client starts
// the run.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "cluster.h"
#include "protocol/codec.h"
#include "transport/curve_keys.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::LocalCluster;
using flotilla::testing::read_file;
using flotilla::testing::small_experiment_flags;
using nlohmann::json;

// Resident set size of `pid` in kB, from /proc.
int64_t rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

std::vector<std::string> flood_flags() {
  std::vector<std::string> args = {
      "--clients", "2", "--rounds", "4", "--peer-timeout", "3", "--heartbeat-interval", "0.5", "--registration-timeout",
      "120"};
  const auto experiment = small_experiment_flags(4);
  args.insert(args.end(), experiment.begin(), experiment.end());
  return args;
}

std::string flood_run(bool flood, std::string* report) {
  LocalCluster cluster(flood ? "flood" : "flood-clean");
  EXPECT_TRUE(cluster.start_coordinator(flood_flags()));
  cluster.start_client("0");
  if (flood) {
    // Once client 0 is registered (the flood's registrations claim its id), measure and flood.
    EXPECT_TRUE(cluster.wait_for_log("1/2 reachable", 120s)) << cluster.coordinator_log();
    const int pid = cluster.coordinator().pid();
    const int64_t before = rss_kb(pid);
    auto rogue = connect_client_channel(cluster.endpoint());
    EXPECT_TRUE(rogue.ok());
    msg::Register reg;
    reg.client_ids = {0};  // held by a live process: refused
    reg.instance_id = 666;
    const Frames registration = encode(reg);
    const Frames garbage{Frame::from_string(std::string(512, '\xff'))};
    for (int i = 0; i < 10000; ++i) {
      EXPECT_TRUE((*rogue)->send(registration).ok());
      EXPECT_TRUE((*rogue)->send(garbage).ok());
    }
    // Many frames in one message, and one frame far over the model-derived limit, from fresh
    // sockets (the oversized frame costs the sender its connection).
    auto many = connect_client_channel(cluster.endpoint());
    Frames lots;
    for (int i = 0; i < 5000; ++i) lots.push_back(Frame::from_string("x"));
    EXPECT_TRUE((*many)->send(lots).ok());
    auto big = connect_client_channel(cluster.endpoint());
    EXPECT_TRUE((*big)->send(Frames{Frame::from_string(std::string(64 << 20, 'z'))}).ok());
    std::this_thread::sleep_for(3s);  // let the coordinator drain it all
    const int64_t after = rss_kb(pid);
    EXPECT_TRUE(cluster.coordinator().running()) << cluster.coordinator_log();
    // Flat: the flood's 20,000 messages and 64 MB frame may not stay in memory.
    EXPECT_LT(after - before, 16 * 1024) << "coordinator RSS grew from " << before << " kB to " << after << " kB";
    *report = "coordinator RSS " + std::to_string(before) + " kB before, " + std::to_string(after) + " kB after";
  }
  cluster.start_client("1");
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  if (flood) {
    const std::string log = cluster.coordinator_log();
    EXPECT_NE(log.find("budget is spent"), std::string::npos) << log;
    EXPECT_LT(flotilla::testing::count_of(log, "\n"), 400) << "refusals must be rate-limited in the log";
  }
  const auto rounds = cluster.rounds();
  EXPECT_EQ(rounds.size(), 4u);
  return rounds.empty() ? "" : rounds.back()["model_sha256"].get<std::string>();
}

TEST(FloodTest, FloodsLeaveMemoryFlatAndTheResultUnchanged) {
  std::string report;
  const std::string clean = flood_run(false, &report);
  const std::string flooded = flood_run(true, &report);
  ASSERT_EQ(clean.size(), 64u);
  EXPECT_EQ(flooded, clean);
  std::printf("flood: %s\n", report.c_str());
}

// Registering (with a key the allowlist accepts) buys no right to flood: a process that takes id 1
// with site-1's key and then sends garbage is throttled, then disconnected and told so; its id is
// free again, the real site-1 takes it, and the run ends with the clean run's model.
std::string keyed_run(bool flood, std::string* log) {
  LocalCluster cluster(flood ? "flood-keyed" : "flood-keyed-clean");
  const auto keys = flotilla::testing::make_keys(cluster, {"site-0", "site-1", "site-2"});
  EXPECT_TRUE(keys.ok);
  std::vector<std::string> args = {"--clients",
                                   "3",
                                   "--rounds",
                                   "3",
                                   "--peer-timeout",
                                   "3",
                                   "--heartbeat-interval",
                                   "0.5",
                                   "--registration-timeout",
                                   "120",
                                   "--curve-secret-key",
                                   keys.coordinator_secret(),
                                   "--allowlist",
                                   keys.allowlist};
  const auto experiment = small_experiment_flags(2);
  args.insert(args.end(), experiment.begin(), experiment.end());
  EXPECT_TRUE(cluster.start_coordinator(args));
  cluster.start_client("0", keys.client_flags("site-0"), "site-0");
  if (flood) {
    EXPECT_TRUE(cluster.wait_for_log("1/3 reachable", 120s)) << cluster.coordinator_log();
    ZmqOptions options;
    auto coordinator_key = read_public_key(keys.dir + "/coordinator.public");
    auto own = read_secret_key_file(keys.dir + "/site-1.secret");
    EXPECT_TRUE(coordinator_key.ok() && own.ok());
    options.security.server_public_key = *coordinator_key;
    options.security.client_keys = *own;
    auto rogue = connect_client_channel(cluster.endpoint(), options);
    EXPECT_TRUE(rogue.ok());
    msg::Register reg;
    reg.client_ids = {1};
    reg.instance_id = 666;
    EXPECT_TRUE((*rogue)->send(encode(reg)).ok());
    EXPECT_TRUE(cluster.wait_for_log("2/3 reachable", 120s)) << cluster.coordinator_log();
    const Frames garbage{Frame::from_string(std::string(512, '\xff'))};
    for (int i = 0; i < 5000; ++i) EXPECT_TRUE((*rogue)->send(garbage).ok());
    // What it hears back: the welcome, errors for the garbage it was still allowed, and at last
    // why it was disconnected.
    bool told = false;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!told && std::chrono::steady_clock::now() < deadline) {
      auto frames = (*rogue)->receive(500ms);
      if (!frames.ok() || !frames->has_value()) continue;
      auto message = decode(**frames);
      if (auto* error = message.ok() ? std::get_if<msg::Error>(&*message) : nullptr)
        told = error->message.find("disconnected") != std::string::npos;
    }
    EXPECT_TRUE(told) << "the flooder was not told it was disconnected\n" << cluster.coordinator_log();
    EXPECT_TRUE(cluster.coordinator().running()) << cluster.coordinator_log();
  }
  cluster.start_client("1", keys.client_flags("site-1"), "site-1");
  cluster.start_client("2", keys.client_flags("site-2"), "site-2");
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  *log = cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  EXPECT_EQ(rounds.size(), 3u);
  return rounds.empty() ? "" : rounds.back()["model_sha256"].get<std::string>();
}

TEST(FloodTest, AnAuthenticatedFlooderIsThrottledThenDisconnectedAndTheResultUnchanged) {
  std::string log;
  const std::string clean = keyed_run(false, &log);
  const std::string flooded = keyed_run(true, &log);
  ASSERT_EQ(clean.size(), 64u);
  EXPECT_EQ(flooded, clean) << log;
  EXPECT_NE(log.find("throttling"), std::string::npos) << log;
  EXPECT_NE(log.find("disconnected: it kept sending while throttled"), std::string::npos) << log;
  EXPECT_LT(flotilla::testing::count_of(log, "\n"), 400) << "throttling must be rate-limited in the log";
}

}  // namespace
}  // namespace flotilla
