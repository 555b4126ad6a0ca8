// End to end: a real coordinator and real client processes on loopback, on a generated dataset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "cluster.h"
#include "datasets/synthetic.h"
#include "models/model_registry.h"
#include "process.h"
#include "protocol/codec.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using flotilla::testing::read_jsonl;

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using nlohmann::json;

struct RunSpec {
  int clients = 3;
  int rounds = 2;
  int min_fit = 1;
  double round_timeout = 60;
  bool send_garbage = false;
};

struct RunResult {
  int coordinator_exit = -1;
  std::string dir;
  std::string coordinator_log;
  std::vector<json> rounds;
};

// The flags both the run and the tests' expectations are built from.
const std::vector<std::string> kTrainFlags = {"--dataset",  "synthetic", "--model",      "mlp", "--partitioner", "iid",
                                              "--epochs",   "2",         "--batch-size", "16",  "--lr",          "0.05",
                                              "--momentum", "0.9",       "--seed",       "7",   "--threads",     "1"};

TrainConfig expected_train_config() {
  TrainConfig t;
  t.epochs = 2;
  t.batch_size = 16;
  t.lr = 0.05;
  t.momentum = 0.9;
  t.seed = 7;
  return t;
}

RunResult run_federated(const RunSpec& spec, const std::string& name) {
  RunResult result;
  const std::string tmp = flotilla::testing::make_temp_dir("flotilla-" + name);
  result.dir = tmp + "/run";
  const std::string endpoint_file = tmp + "/endpoint";
  std::vector<std::string> argv = {testing::kBinDir + "/flotilla-coordinator",
                                   "--bind",
                                   "tcp://127.0.0.1:*",
                                   "--endpoint-file",
                                   endpoint_file,
                                   "--clients",
                                   std::to_string(spec.clients),
                                   "--rounds",
                                   std::to_string(spec.rounds),
                                   "--min-fit",
                                   std::to_string(spec.min_fit),
                                   "--round-timeout",
                                   std::to_string(spec.round_timeout),
                                   "--out",
                                   result.dir,
                                   "--registration-timeout",
                                   "60"};
  argv.insert(argv.end(), kTrainFlags.begin(), kTrainFlags.end());
  ChildProcess coordinator(argv, tmp + "/coordinator.log");
  EXPECT_TRUE(coordinator.started());
  if (!flotilla::testing::wait_for_file(endpoint_file, 60s)) {
    ADD_FAILURE() << "coordinator never bound:\n" << coordinator.log();
    return result;
  }
  std::string endpoint = flotilla::testing::read_file(endpoint_file);
  endpoint.erase(endpoint.find_last_not_of("\n") + 1);

  if (spec.send_garbage) {
    // A rogue peer: garbage, then a message with a frame that does not match its header.
    auto rogue = connect_client_channel(endpoint);
    EXPECT_TRUE(rogue.ok());
    Frames garbage{Frame::from_string("definitely not protobuf")};
    EXPECT_TRUE((*rogue)->send(garbage).ok());
    msg::ClientUpdate fake;
    fake.state.add("fc1.weight", at::ones({2, 2}));
    Frames bad = encode(fake);
    bad.pop_back();
    EXPECT_TRUE((*rogue)->send(bad).ok());
    auto reply = (*rogue)->receive(10s);  // the coordinator answers with an Error
    EXPECT_TRUE(reply.ok() && reply->has_value());
  }

  std::vector<std::unique_ptr<ChildProcess>> clients;
  for (int k = 0; k < spec.clients; ++k) {
    const std::vector<std::string> cargs = {testing::kBinDir + "/flotilla-client",
                                            "--connect",
                                            endpoint,
                                            "--client-id",
                                            std::to_string(k),
                                            "--threads",
                                            "1"};
    clients.push_back(std::make_unique<ChildProcess>(cargs, tmp + "/client" + std::to_string(k) + ".log"));
  }
  result.coordinator_exit = coordinator.wait_for(240s);
  result.coordinator_log = coordinator.log();
  for (auto& c : clients) c->wait_for(20s);  // told to shut down; the destructor kills stragglers
  result.rounds = read_jsonl(result.dir + "/metrics.jsonl");
  return result;
}

// Wire bytes of the round task the coordinator sends: envelope + tensor frames for this model,
// with ZMTP framing (the run is on loopback without CURVE).
int64_t expected_task_bytes(int round, int client_id) {
  auto model = create_model("mlp", ModelSpec{1, 12, 12, 10});
  EXPECT_TRUE(model.ok());
  msg::RoundTask task;
  task.round = round;
  task.client_ids = {client_id};
  task.config = expected_train_config();
  task.state = model_state(**model);
  task.task_id = uint64_t{1} << 63;  // every task id takes as many bytes (coordinator/client_hub.h)
  return zmtp_wire_bytes(encode(task), /*curve=*/false);
}

// Bytes of a client's update, rebuilt from what the metrics say it reported.
int64_t expected_update_bytes(int round, const json& c) {
  auto model = create_model("mlp", ModelSpec{1, 12, 12, 10});
  msg::ClientUpdate u;
  u.round = round;
  u.client_id = c["client_id"];
  u.num_samples = c["num_samples"];
  u.train_loss = c["train_loss"];
  u.train_seconds = c["train_seconds"];
  u.total_seconds = c["total_seconds"];
  u.steps = c["local_steps"];
  for (const auto& [key, value] : c["metrics"].items()) u.metrics[key] = value.get<double>();
  u.state = model_state(**model);
  u.task_id = uint64_t{1} << 63;  // echoed from the task: as many bytes as any id
  return zmtp_wire_bytes(encode(u), /*curve=*/false);
}

TEST(FederatedRunTest, ThreeClientsTwoRoundsRecordTrafficDivergenceAndAccuracy) {
  RunSpec spec;
  spec.send_garbage = true;
  RunResult r = run_federated(spec, "basic");
  ASSERT_EQ(r.coordinator_exit, 0) << r.coordinator_log;
  EXPECT_NE(r.coordinator_log.find("dropping malformed message"), std::string::npos) << r.coordinator_log;
  ASSERT_EQ(r.rounds.size(), 2u);
  for (const json& row : r.rounds) {
    const int round = row["round"];
    EXPECT_EQ(row["status"], "ok");
    EXPECT_EQ(row["answered"], 3);
    EXPECT_EQ(row["sampled"].size(), 3u);
    EXPECT_EQ(row["model_sha256"].get<std::string>().size(), 64u);
    int64_t sent = 0, received = 0;
    for (const json& c : row["clients"]) {
      EXPECT_EQ(c["status"], "ok");
      EXPECT_EQ(c["bytes_sent"].get<int64_t>(), expected_task_bytes(round, c["client_id"])) << c.dump();
      EXPECT_EQ(c["bytes_received"].get<int64_t>(), expected_update_bytes(round, c)) << c.dump();
      EXPECT_GT(c["num_samples"].get<int64_t>(), 0);
      // The histogram is of the whole partition; 10% of it is held out for local accuracy.
      const auto histogram = c["label_histogram"].get<std::vector<int64_t>>();
      ASSERT_EQ(histogram.size(), 10u) << c.dump();
      const int64_t partition_size = std::accumulate(histogram.begin(), histogram.end(), int64_t{0});
      const auto held_out = static_cast<int64_t>(0.1 * static_cast<double>(partition_size));
      EXPECT_EQ(c["num_samples"].get<int64_t>(), partition_size - held_out) << c.dump();
      for (const char* key : {"local_acc_before", "local_acc_after"}) {
        ASSERT_TRUE(c["metrics"].contains(key)) << c.dump();
        EXPECT_GE(c["metrics"][key].get<double>(), 0.0);
        EXPECT_LE(c["metrics"][key].get<double>(), 1.0);
      }
      const double d_prev = c["divergence_to_previous"], d_new = c["divergence_to_new"];
      EXPECT_TRUE(std::isfinite(d_prev) && d_prev > 0) << c.dump();
      EXPECT_TRUE(std::isfinite(d_new) && d_new > 0) << c.dump();
      const double cosine = c["cosine_to_update"];
      EXPECT_GE(cosine, -1.0);
      EXPECT_LE(cosine, 1.0);
      sent += c["bytes_sent"].get<int64_t>();
      received += c["bytes_received"].get<int64_t>();
    }
    EXPECT_EQ(row["bytes_sent"].get<int64_t>(), sent);
    EXPECT_EQ(row["bytes_received"].get<int64_t>(), received);
  }
  // 10 balanced classes: chance is 0.1.
  EXPECT_GT(r.rounds.back()["test_accuracy"].get<double>(), 0.3);
  for (const char* file : {"/config.json", "/partition.csv", "/rounds.csv", "/clients.csv", "/model_final.pt",
                           "/checkpoints/round_0002.pt"})
    EXPECT_FALSE(flotilla::testing::read_file(r.dir + file).empty()) << file;
}

TEST(FederatedRunTest, SameSeedGivesBitIdenticalModels) {
  RunResult a = run_federated(RunSpec{}, "repro-a");
  RunResult b = run_federated(RunSpec{}, "repro-b");
  ASSERT_EQ(a.coordinator_exit, 0) << a.coordinator_log;
  ASSERT_EQ(b.coordinator_exit, 0) << b.coordinator_log;
  ASSERT_EQ(a.rounds.size(), 2u);
  ASSERT_EQ(b.rounds.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(a.rounds[i]["model_sha256"], b.rounds[i]["model_sha256"]);
  EXPECT_EQ(flotilla::testing::read_file(a.dir + "/model_final.pt"),
            flotilla::testing::read_file(b.dir + "/model_final.pt"));
}

// Lost, hung and refused clients: resilience_test.cc.

}  // namespace
}  // namespace flotilla

namespace flotilla {
namespace {

// 100 logical clients in 4 processes, 10% sampled per round, as in the FedAvg paper's setups.
TEST(FederatedRunTest, HundredLogicalClientsInFourProcesses) {
  const std::string tmp = flotilla::testing::make_temp_dir("flotilla-hundred");
  std::vector<std::string> argv = {testing::kBinDir + "/flotilla-run",
                                   "--clients",
                                   "100",
                                   "--processes",
                                   "4",
                                   "--fraction",
                                   "0.1",
                                   "--rounds",
                                   "2",
                                   "--dataset",
                                   "synthetic",
                                   "--model",
                                   "mlp",
                                   "--partitioner",
                                   "iid",
                                   "--threads",
                                   "1",
                                   "--out",
                                   tmp + "/run"};
  ChildProcess run(argv, tmp + "/run.log");
  ASSERT_EQ(run.wait_for(300s), 0) << run.log();
  const auto rounds = read_jsonl(tmp + "/run/metrics.jsonl");
  ASSERT_EQ(rounds.size(), 2u);
  for (const json& r : rounds) {
    EXPECT_EQ(r["sampled"].size(), 10u);
    EXPECT_EQ(r["answered"], 10);
  }
  EXPECT_NE(rounds[0]["sampled"], rounds[1]["sampled"]) << "sampling should differ between rounds";
  // partition.csv: a header and one row per logical client.
  const std::string partition = flotilla::testing::read_file(tmp + "/run/partition.csv");
  EXPECT_EQ(std::count(partition.begin(), partition.end(), '\n'), 101);
}

}  // namespace
}  // namespace flotilla
