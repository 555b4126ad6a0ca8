#include "coordinator/run_recorder.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/text.h"

namespace flotilla {
namespace {

using test_text::slurp;

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
  EXPECT_FALSE(std::filesystem::exists(dir + "/model_final.pt.tmp"));  // written atomically
}

RoundMetrics round_metrics(int round, double accuracy, size_t num_classes = 2) {
  RoundMetrics m;
  m.round = round;
  m.sampled = {0, 1};
  m.answered = 2;
  m.test_accuracy = accuracy;
  m.class_accuracy.assign(num_classes, accuracy);
  for (int id : {0, 1}) {
    ClientRoundMetrics c;
    c.client_id = id;
    c.num_samples = 10;
    m.clients.push_back(c);
  }
  return m;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The round of each row: "round" of each JSON line, or the first field of each CSV row after the header.
std::vector<int> rounds_in(const std::string& path) {
  std::vector<int> out;
  const bool is_json = path.size() > 6 && path.substr(path.size() - 6) == ".jsonl";
  const auto lines = lines_of(path);
  for (size_t i = is_json ? 0 : 1; i < lines.size(); ++i)
    out.push_back(is_json ? nlohmann::json::parse(lines[i])["round"].get<int>() : std::stoi(lines[i]));
  return out;
}

std::string fresh_run(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/recorder_test_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// The .pt files are streamed to disk, byte for byte what torch::jit::pickle_save() returns (what
// torch.load() in Python reads), and load back.
TEST(RunRecorderTest, StateDictFileIsPickleSaveBytes) {
  const std::string dir = ::testing::TempDir() + "/recorder_test_pt";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ModelState s;
  s.add("fc1.weight", at::randn({30, 20}));
  s.add("fc1.bias", at::randn({30}, at::kDouble));
  s.add("t", at::arange(12, at::kFloat).reshape({3, 4}).t());  // non-contiguous
  s.add("n", at::scalar_tensor(int64_t{5}, at::kLong));
  ASSERT_TRUE(save_state_dict(s, dir + "/m.pt").ok());
  // As save_state_dict builds it (fresh handles: the pickler memoizes tensors held elsewhere).
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& e : s.entries()) dict.insert(e.name, e.tensor.detach().cpu());
  const std::vector<char> expected = torch::jit::pickle_save(c10::IValue(dict));
  const std::string written = slurp(dir + "/m.pt");
  EXPECT_EQ(written, std::string(expected.begin(), expected.end()));
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.pt.tmp"));
  const auto back = torch::jit::pickle_load(std::vector<char>(written.begin(), written.end())).toGenericDict();
  ASSERT_EQ(back.size(), s.size());
  for (const auto& e : s.entries()) EXPECT_TRUE(at::equal(back.at(e.name).toTensor(), e.tensor)) << e.name;
}

TEST(RunRecorderTest, ResumeDropsRowsAfterTheCheckpointSoEachRoundIsWrittenOnce) {
  const std::string dir = fresh_run("resume");
  {
    auto rec = RunRecorder::create(dir);
    ASSERT_TRUE(rec.ok()) << rec.status();
    for (int r = 1; r <= 5; ++r) ASSERT_TRUE((*rec)->record_round(round_metrics(r, 0.5)).ok());
  }  // killed after recording round 5; the last checkpoint is round 3's
  auto rec = RunRecorder::resume(dir, 3);
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rounds_in(dir + "/metrics.jsonl"), (std::vector<int>{1, 2, 3}));
  for (int r = 4; r <= 6; ++r) ASSERT_TRUE((*rec)->record_round(round_metrics(r, 0.75)).ok());
  rec->reset();

  EXPECT_EQ(rounds_in(dir + "/metrics.jsonl"), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(rounds_in(dir + "/rounds.csv"), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(rounds_in(dir + "/clients.csv"), (std::vector<int>{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6}));
  for (const char* file : {"/rounds.csv", "/clients.csv"}) {
    const auto lines = lines_of(dir + file);
    int headers = 0;
    for (const auto& line : lines) headers += line.rfind("round,", 0) == 0;
    EXPECT_EQ(headers, 1) << file;
    // The resumed rows have the header's columns (rounds.csv: one per class).
    const auto columns = std::count(lines[0].begin(), lines[0].end(), ',');
    for (const auto& line : lines)
      EXPECT_EQ(std::count(line.begin(), line.end(), ','), columns) << file << ": " << line;
  }
  // Rounds 4 and 5 are the resumed run's, not the dead one's.
  const auto rows = lines_of(dir + "/metrics.jsonl");
  EXPECT_EQ(nlohmann::json::parse(rows[2])["test_accuracy"], 0.5);
  EXPECT_EQ(nlohmann::json::parse(rows[3])["test_accuracy"], 0.75);
  EXPECT_FALSE(std::filesystem::exists(dir + "/metrics.jsonl.tmp"));
}

TEST(RunRecorderTest, ResumeDropsATornLastLine) {
  const std::string dir = fresh_run("torn");
  {
    auto rec = RunRecorder::create(dir);
    ASSERT_TRUE(rec.ok()) << rec.status();
    for (int r = 1; r <= 3; ++r) ASSERT_TRUE((*rec)->record_round(round_metrics(r, 0.5)).ok());
  }
  // Killed in the middle of writing round 4 (and of a round-3 row, which a kill cannot do, but a
  // row without its newline cannot be trusted whatever its round).
  std::ofstream(dir + "/metrics.jsonl", std::ios::app) << "{\"round\": 4, \"stat";
  std::ofstream(dir + "/rounds.csv", std::ios::app) << "4,ok,2";
  std::ofstream(dir + "/clients.csv", std::ios::app) << "3,1,o";
  auto rec = RunRecorder::resume(dir, 3);
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_TRUE((*rec)->record_round(round_metrics(4, 0.75)).ok());
  rec->reset();
  EXPECT_EQ(rounds_in(dir + "/metrics.jsonl"), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(rounds_in(dir + "/rounds.csv"), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(rounds_in(dir + "/clients.csv"), (std::vector<int>{1, 1, 2, 2, 3, 3, 4, 4}));
}

TEST(RunRecorderTest, ResumeBeforeAnyRoundWritesTheHeadersOnce) {
  const std::string dir = fresh_run("empty");
  ASSERT_TRUE(RunRecorder::create(dir).ok());
  auto rec = RunRecorder::resume(dir, 0);
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_TRUE((*rec)->record_round(round_metrics(1, 0.5)).ok());
  rec->reset();
  EXPECT_EQ(rounds_in(dir + "/rounds.csv"), (std::vector<int>{1}));
  EXPECT_EQ(rounds_in(dir + "/clients.csv"), (std::vector<int>{1, 1}));
}

TEST(RunRecorderTest, RoundsHeaderOnceWithoutPerClassAccuracy) {
  const std::string dir = fresh_run("no_classes");
  auto rec = RunRecorder::create(dir);
  ASSERT_TRUE(rec.ok());
  for (int r = 1; r <= 3; ++r) ASSERT_TRUE((*rec)->record_round(round_metrics(r, 0.5, 0)).ok());
  EXPECT_EQ(rounds_in(dir + "/rounds.csv"), (std::vector<int>{1, 2, 3}));
}

TEST(RunRecorderTest, ResumeRefusesMissingFilesAndUnreadableRows) {
  const std::string dir = fresh_run("refuse");
  auto missing = RunRecorder::resume(dir, 1);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  {
    auto rec = RunRecorder::create(dir);
    ASSERT_TRUE(rec.ok());
    for (int r = 1; r <= 2; ++r) ASSERT_TRUE((*rec)->record_round(round_metrics(r, 0.5)).ok());
  }
  std::filesystem::remove(dir + "/clients.csv");
  missing = RunRecorder::resume(dir, 1);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("clients.csv"), std::string::npos) << missing.status();

  std::ofstream(dir + "/clients.csv") << "round,client_id\n1,0\n";
  const std::string before = slurp(dir + "/metrics.jsonl");
  std::ofstream(dir + "/rounds.csv", std::ios::app) << "garbage row\n2,ok\n";
  auto bad = RunRecorder::resume(dir, 1);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("rounds.csv: line 4"), std::string::npos) << bad.status();
  EXPECT_EQ(slurp(dir + "/metrics.jsonl"), before) << "a refused resume must leave the files as they were";
  EXPECT_EQ(RunRecorder::resume(dir, -1).status().code(), StatusCode::kInvalidArgument);
}

TEST(RunRecorderTest, UnwritableDirectoryIsAnError) {
  auto rec = RunRecorder::create("/proc/flotilla-cannot-write-here");
  EXPECT_FALSE(rec.ok());
}

}  // namespace
}  // namespace flotilla
