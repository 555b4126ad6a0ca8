// Performance features on real processes: one broadcast per process (and the same model whatever
// the process layout), compressed updates (smaller, decoded, hostile payloads refused), streaming
// aggregation recorded as such, and --eval-every.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "cluster.h"
#include "protocol/messages.h"
#include "rogue_client.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::LocalCluster;
using flotilla::testing::RogueClient;
using flotilla::testing::small_experiment_flags;
using nlohmann::json;

constexpr int kPerformanceRounds = 3;

std::vector<std::string> performance_flags(int clients, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {
      "--clients", std::to_string(clients), "--rounds", std::to_string(kPerformanceRounds), "--checkpoint-every", "0"};
  const auto experiment = small_experiment_flags(1);
  args.insert(args.end(), experiment.begin(), experiment.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// A run with clients hosted as `processes` says (each entry: one process's --client-ids).
std::vector<json> performance_run(const std::string& name, int clients, const std::vector<std::string>& processes,
                                  const std::vector<std::string>& more = {}) {
  LocalCluster cluster(name);
  EXPECT_TRUE(cluster.start_coordinator(performance_flags(clients, more)));
  for (const auto& ids : processes) cluster.start_client(ids);
  EXPECT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
  return cluster.rounds();
}

int64_t sum_of(const json& round, const char* field) {
  int64_t total = 0;
  for (const auto& c : round["clients"]) total += c[field].get<int64_t>();
  return total;
}

const std::vector<json>& four_processes() {
  static const std::vector<json> rounds = performance_run("perf-four-processes", 4, {"0", "1", "2", "3"});
  return rounds;
}

// Four logical clients in one process get one task message per round: the model crosses the
// wire once, not four times. Each client's bytes_sent still says what its task alone moves, and
// the model is bit-for-bit the one four processes train (and fold in another order).
TEST(BroadcastTest, OneProcessReceivesTheModelOncePerRound) {
  const auto shared = performance_run("perf-one-process", 4, {"0-3"});
  const auto& separate = four_processes();
  ASSERT_EQ(shared.size(), static_cast<size_t>(kPerformanceRounds));
  ASSERT_EQ(separate.size(), static_cast<size_t>(kPerformanceRounds));
  for (int r = 0; r < kPerformanceRounds; ++r) {
    EXPECT_EQ(shared[r]["answered"], 4);
    const int64_t logical = shared[r]["bytes_sent"], wire = shared[r]["wire_bytes_sent"];
    EXPECT_EQ(logical, separate[r]["bytes_sent"].get<int64_t>());  // per-client traffic unchanged
    EXPECT_EQ(sum_of(shared[r], "bytes_sent"), logical);
    // One message of one model, plus 3 more ids (a few bytes), against four.
    EXPECT_GT(wire, logical / 4);
    EXPECT_LT(wire, logical / 4 + 64) << "round " << r + 1;
    EXPECT_EQ(separate[r]["wire_bytes_sent"].get<int64_t>(), logical);
    EXPECT_EQ(shared[r]["model_sha256"], separate[r]["model_sha256"]) << "round " << r + 1;
    EXPECT_EQ(shared[r]["aggregation"], "streaming");
    EXPECT_EQ(shared[r]["inexact_elements"], 0);
  }
}

// Upload flow control: with room for one update in transit (--upload-memory far below a model),
// four clients of one process upload one at a time, in turn, and the run ends with bit-for-bit
// the model of four processes with room for all. The rows say what was in transit at most.
TEST(UploadFlowTest, OneUploadAtATimeGivesTheSameModel) {
  const auto one_at_a_time = performance_run("perf-one-upload", 4, {"0-3"}, {"--upload-memory", "0.001"});
  const auto& roomy = four_processes();
  ASSERT_EQ(one_at_a_time.size(), static_cast<size_t>(kPerformanceRounds));
  for (int r = 0; r < kPerformanceRounds; ++r) {
    EXPECT_EQ(one_at_a_time[r]["answered"], 4);
    EXPECT_EQ(one_at_a_time[r]["model_sha256"], roomy[r]["model_sha256"]) << "round " << r + 1;
    // At most one update in transit: no more than the largest client's answer.
    int64_t largest = 0;
    for (const auto& c : one_at_a_time[r]["clients"]) largest = std::max(largest, c["bytes_received"].get<int64_t>());
    const int64_t peak = one_at_a_time[r]["upload_peak_bytes"];
    EXPECT_GT(peak, largest / 2) << "round " << r + 1;
    EXPECT_LE(peak, largest) << "round " << r + 1;
    // With room for all four, none had to wait for its turn.
    EXPECT_GE(roomy[r]["upload_peak_bytes"].get<int64_t>(), peak);
    EXPECT_EQ(roomy[r]["uploads_waiting_peak"], 0) << "round " << r + 1;
  }
}

// Each codec's run finishes with updates that are as small as the codec promises, decoded into
// models the coordinator accepts; the run records the canonical spec.
TEST(CompressionTest, CompressedUpdatesAreSmallerAndTrain) {
  const auto& plain = four_processes();
  const struct {
    const char* spec;
    const char* canonical;
    double max_ratio;  // of the uncompressed update bytes
  } cases[] = {{"fp16", "fp16", 0.52},
               {"qsgd", "qsgd:bucket=1024,levels=127,norm=max", 0.27},
               {"topk:ratio=0.05", "topk:error_feedback=1,ratio=0.05", 0.12}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec);
    LocalCluster cluster(std::string("perf-") + c.spec);
    ASSERT_TRUE(cluster.start_coordinator(performance_flags(4, {"--compression", c.spec})));
    cluster.start_client("0-1");
    cluster.start_client("2-3");
    ASSERT_EQ(cluster.wait_coordinator(180s), 0) << cluster.coordinator_log();
    const auto rounds = cluster.rounds();
    ASSERT_EQ(rounds.size(), static_cast<size_t>(kPerformanceRounds));
    for (int r = 0; r < kPerformanceRounds; ++r) {
      EXPECT_EQ(rounds[r]["answered"], 4) << rounds[r];
      const double ratio = static_cast<double>(rounds[r]["bytes_received"].get<int64_t>()) /
                           static_cast<double>(plain[r]["bytes_received"].get<int64_t>());
      EXPECT_LT(ratio, c.max_ratio) << "round " << r + 1;
      EXPECT_GT(rounds[r]["test_accuracy"].get<double>(), 0.0);
    }
    std::ifstream config(cluster.run_dir() + "/config.json");
    const json recorded = json::parse(config);
    EXPECT_EQ(recorded["compression"], c.canonical);
  }
}

// A hand-driven client 1 answers with hostile compressed updates: another codec, then a top-k
// payload with an index past the tensor's end. Each is rejected for its round, naming the
// problem; client 0 carries the run.
TEST(CompressionTest, HostilePayloadsAreRejectedForTheirRound) {
  LocalCluster cluster("perf-hostile");
  ASSERT_TRUE(cluster.start_coordinator(performance_flags(2, {"--compression", "topk:ratio=0.1", "--min-fit", "1"})));
  cluster.start_client("0");
  int code = -1;
  {
    RogueClient rogue(cluster.endpoint(), 1, [](const msg::RoundTask& task) {
      msg::ClientUpdate update;
      update.round = task.round;
      update.client_id = 1;
      update.num_samples = 10;
      update.steps = 1;
      if (task.round == 1) {
        update.compression = "fp16";  // not what the run uses
        update.state = task.state.clone();
        return update;
      }
      update.compression = task.compression;
      for (const auto& e : task.state.entries()) {
        if (!e.tensor.is_floating_point()) {
          update.state.add(e.name, e.tensor.clone());
          continue;
        }
        const int64_t n = e.tensor.numel();
        const int64_t k = std::max<int64_t>(1, std::llround(0.1 * static_cast<double>(n)));
        at::Tensor idx = at::arange(k, at::kInt);
        idx[k - 1] = static_cast<int>(n + 5);  // past the end
        update.state.add(e.name + "#idx", idx);
        update.state.add(e.name + "#val", at::zeros({k}));
      }
      return update;
    });
    code = cluster.wait_coordinator(120s);
  }
  ASSERT_EQ(code, 0) << cluster.coordinator_log();
  const auto rounds = cluster.rounds();
  ASSERT_EQ(rounds.size(), static_cast<size_t>(kPerformanceRounds));
  for (int r = 0; r < kPerformanceRounds; ++r) {
    EXPECT_EQ(rounds[r]["answered"], 1) << rounds[r];
    for (const auto& c : rounds[r]["clients"]) {
      if (c["client_id"] != 1) continue;
      const std::string status = c["status"];
      if (r == 0) {
        EXPECT_NE(status.find("compressed with 'fp16'"), std::string::npos) << status;
      } else {
        EXPECT_NE(status.find("compressed update"), std::string::npos) << status;
        EXPECT_NE(status.find("#idx"), std::string::npos) << status;
      }
    }
  }
}

// --eval-every 2 over 3 rounds evaluates rounds 2 and 3 (the last always); round 1 records no
// accuracy. A rule that needs the whole round says so.
TEST(EvaluationTest, EvalEveryEvaluatesTheRoundsItNamesAndTheLast) {
  const auto rounds = performance_run("perf-eval-every", 2, {"0-1"}, {"--eval-every", "2", "--aggregator", "median"});
  ASSERT_EQ(rounds.size(), static_cast<size_t>(kPerformanceRounds));
  EXPECT_TRUE(rounds[0]["test_accuracy"].is_null()) << rounds[0];
  EXPECT_TRUE(rounds[1]["test_accuracy"].is_number()) << rounds[1];
  EXPECT_TRUE(rounds[2]["test_accuracy"].is_number()) << rounds[2];
  EXPECT_GT(rounds[2]["eval_seconds"].get<double>(), 0.0);
  for (const auto& r : rounds) EXPECT_EQ(r["aggregation"], "whole round");
}

}  // namespace
}  // namespace flotilla
