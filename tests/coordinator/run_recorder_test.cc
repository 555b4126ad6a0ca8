#include "coordinator/run_recorder.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace flotilla {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RunRecorderTest, WritesRoundsClientsPartitionAndCheckpoints) {
  const std::string dir = ::testing::TempDir() + "/recorder_test_run";
  std::filesystem::remove_all(dir);
  auto rec = RunRecorder::create(dir);
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_TRUE((*rec)->write_config("{\"rounds\": 1}\n").ok());
  ASSERT_TRUE((*rec)->write_partition({{5, 0}, {1, 4}}).ok());
  RoundMetrics m;
  m.round = 1;
  m.sampled = {0, 1};
  m.answered = 2;
  m.test_accuracy = 0.5;
  m.class_accuracy = {0.25, std::nan("")};
  ClientRoundMetrics c;
  c.client_id = 1;
  c.bytes_sent = 100;
  c.cosine_to_update = std::nan("");
  c.extra["local_acc_after"] = 0.75;
  c.label_histogram = {1, 4};
  m.clients = {c};
  ASSERT_TRUE((*rec)->record_round(m).ok());

  auto row = nlohmann::json::parse(slurp(dir + "/metrics.jsonl"));
  EXPECT_EQ(row["round"], 1);
  EXPECT_TRUE(row["class_accuracy"][1].is_null()) << "NaN must become null";
  EXPECT_TRUE(row["clients"][0]["cosine_to_update"].is_null());
  EXPECT_EQ(row["clients"][0]["bytes_sent"], 100);
  EXPECT_EQ(row["clients"][0]["label_histogram"], nlohmann::json({1, 4}));
  EXPECT_EQ(row["clients"][0]["metrics"]["local_acc_after"], 0.75);
  // Global distribution (0.6, 0.4): client 0 (1, 0) and client 1 (0.2, 0.8) are both 0.8 away.
  EXPECT_EQ(slurp(dir + "/partition.csv"),
            "client_id,class_0,class_1,total,classes,emd\n0,5,0,5,1,0.8\n1,1,4,5,2,0.8\n");
  auto partition = nlohmann::json::parse(slurp(dir + "/partition.json"));
  ASSERT_EQ(partition["clients"].size(), 2u);
  EXPECT_EQ(partition["clients"][1]["class_counts"], nlohmann::json({1, 4}));
  EXPECT_EQ(partition["clients"][1]["total"], 5);
  EXPECT_EQ(partition["clients"][1]["classes"], 2);
  const auto& summary = partition["summary"];
  EXPECT_EQ(summary["num_clients"], 2);
  EXPECT_EQ(summary["total_samples"], 10);
  EXPECT_EQ(summary["global_class_counts"], nlohmann::json({6, 4}));
  EXPECT_EQ(summary["classes_per_client"]["median"], 1.5);
  EXPECT_NEAR(summary["emd"]["mean"].get<double>(), 0.8, 1e-12);
  const std::string clients = slurp(dir + "/clients.csv");
  EXPECT_NE(clients.find("\n1,1,ok,100,"), std::string::npos) << clients;
  EXPECT_NE(clients.find(",0.75\n"), std::string::npos) << clients;
  EXPECT_NE(slurp(dir + "/rounds.csv").find("class_1_accuracy"), std::string::npos);

  ModelState s;
  s.add("w", at::ones({2, 2}));
  ASSERT_TRUE((*rec)->save_checkpoint(s, 1).ok());
  ASSERT_TRUE((*rec)->save_final(s).ok());
  EXPECT_GT(std::filesystem::file_size(dir + "/checkpoints/round_0001.pt"), 16u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/model_final.pt"));
}

TEST(RunRecorderTest, UnwritableDirectoryIsAnError) {
  auto rec = RunRecorder::create("/proc/flotilla-cannot-write-here");
  EXPECT_FALSE(rec.ok());
}

}  // namespace
}  // namespace flotilla
