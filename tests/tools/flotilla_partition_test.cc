// flotilla-partition end to end: the built binary on the built-in synthetic dataset (no files),
// its table and summary, its partition.csv / partition.json, and its exit status and one-line
// message for bad flags and bad data. The split is also recomputed in-process through the
// coordinator's own path (partitioner_options_from_flags + partition_for), which the tool's
// files must match byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "datasets/dataset_loader.h"
#include "partitioners/partition_report.h"
#include "partitioners/partitioner_flags.h"
#include "tests/integration/process.h"
#include "tests/support/text.h"
#include "training/experiment_setup.h"

namespace flotilla {
namespace {

using testing::ToolResult;

using test_text::contains;
using test_text::split_lines;

using testing::ChildProcess;

class FlotillaPartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("flotilla-partition-test");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ToolResult run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-partition"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess tool(argv, dir_ + "/tool.log");
    EXPECT_TRUE(tool.started()) << argv[0];
    // Generous for two busy cores; a run takes well under a second.
    ToolResult result{tool.wait_for(std::chrono::seconds(60)), tool.log()};
    return result;
  }

  // Bad input: a non-zero status and exactly one line, "error: ..." mentioning `mentions`.
  void expect_error(const std::vector<std::string>& args, int exit_code, const std::string& mentions) {
    const ToolResult r = run(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, exit_code) << shown << "\n" << r.output;
    const auto lines = split_lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << shown << "\n" << r.output;
    EXPECT_EQ(lines[0].rfind("error: ", 0), 0u) << shown << "\n" << r.output;
    EXPECT_TRUE(contains(lines[0], mentions)) << shown << "\n" << r.output;
  }

  // partition.csv as a coordinator run with these partitioner flags, clients and seed records it.
  static std::string expected_csv(const std::string& partitioner, const PartitionerFlags& flags, int clients,
                                  uint64_t seed) {
    auto data = load_dataset("synthetic", "");
    EXPECT_TRUE(data.ok()) << data.status();
    Experiment ex;
    ex.dataset = "synthetic";
    ex.num_clients = clients;
    ex.partitioner = partitioner;
    ex.seed = seed;
    auto options = partitioner_options_from_flags(partitioner, flags);
    EXPECT_TRUE(options.ok()) << options.status();
    ex.partitioner_options = *options;
    auto partition = partition_for(ex, data->train);
    EXPECT_TRUE(partition.ok()) << partition.status();
    return partition_csv(
        compute_partition_stats(partition->class_counts(data->train.label_vector(), data->train.num_classes)));
  }

  std::string dir_;
};

TEST_F(FlotillaPartitionTest, IidPrintsTableAndSummaryAndWritesBothFiles) {
  const std::string out = dir_ + "/iid";
  const ToolResult r = run({"--dataset", "synthetic", "--clients", "8", "--partitioner", "iid", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = split_lines(r.output);
  // Title, table header, 8 clients, 4 summary lines, "wrote ...".
  ASSERT_EQ(lines.size(), 15u) << r.output;
  EXPECT_EQ(lines[0], "synthetic: 2000 training samples, 10 classes; iid over 8 clients, seed 42");
  EXPECT_EQ(lines[1].rfind("client  ", 0), 0u) << lines[1];
  EXPECT_TRUE(contains(lines[1], " c9  total  classes     emd")) << lines[1];
  EXPECT_EQ(lines[9].rfind("     7  ", 0), 0u) << lines[9];
  EXPECT_EQ(lines[10], "8 clients, 10 classes, 2000 samples");
  // 2000 / 8 = 250 each.
  EXPECT_EQ(lines[11], "samples per client: min 250, median 250, max 250, mean 250.0, std 0.0");
  EXPECT_EQ(lines[12].rfind("classes per client: min 10,", 0), 0u) << lines[12];
  EXPECT_EQ(lines[13].rfind("EMD to the global label distribution", 0), 0u) << lines[13];
  EXPECT_EQ(lines[14], "wrote " + out + "/partition.csv and " + out + "/partition.json");

  const std::string csv = testing::read_file(out + "/partition.csv");
  const auto rows = split_lines(csv);
  ASSERT_EQ(rows.size(), 9u) << csv;
  EXPECT_EQ(rows[0],
            "client_id,class_0,class_1,class_2,class_3,class_4,class_5,class_6,class_7,class_8,class_9,total,classes,"
            "emd");
  int64_t total = 0;
  for (size_t k = 1; k < rows.size(); ++k) {
    std::vector<std::string> fields;
    std::istringstream row(rows[k]);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    ASSERT_EQ(fields.size(), 14u) << rows[k];
    EXPECT_EQ(fields[0], std::to_string(k - 1));
    total += std::stoll(fields[11]);
  }
  EXPECT_EQ(total, 2000);
  EXPECT_EQ(csv, expected_csv("iid", PartitionerFlags(), 8, 42));

  const auto json = nlohmann::json::parse(testing::read_file(out + "/partition.json"));
  ASSERT_EQ(json["clients"].size(), 8u);
  EXPECT_EQ(json["summary"]["num_clients"], 8);
  EXPECT_EQ(json["summary"]["total_samples"], 2000);
  EXPECT_LT(json["summary"]["emd"]["max"].get<double>(), 0.5) << "an IID split sits close to the global labels";
}

TEST_F(FlotillaPartitionTest, DirichletFlagsGiveTheSplitARunWouldRecord) {
  const std::string out = dir_ + "/dirichlet";
  const ToolResult r = run({"--dataset", "synthetic", "--clients", "20", "--partitioner", "dirichlet", "--alpha", "0.1",
                            "--min-partition-size", "5", "--seed", "7", "--max-rows", "4", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "dirichlet (alpha=0.1, min_partition_size=5) over 20 clients, seed 7\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "\n     3  ")) << r.output;
  EXPECT_FALSE(contains(r.output, "\n     4  ")) << "--max-rows 4 shows clients 0-3 only:\n" << r.output;
  EXPECT_TRUE(contains(r.output, "\n... (16 more)\n20 clients, 10 classes, 2000 samples\n")) << r.output;

  PartitionerFlags flags;
  flags.alpha = 0.1;
  flags.min_partition_size = 5;
  const std::string csv = testing::read_file(out + "/partition.csv");
  EXPECT_EQ(csv, expected_csv("dirichlet", flags, 20, 7));
  EXPECT_NE(csv, expected_csv("dirichlet", flags, 20, 8)) << "the seed must reach the partitioner";

  const auto json = nlohmann::json::parse(testing::read_file(out + "/partition.json"));
  ASSERT_EQ(json["clients"].size(), 20u);
  int64_t total = 0;
  for (const auto& client : json["clients"]) {
    total += client["total"].get<int64_t>();
    EXPECT_GE(client["total"].get<int64_t>(), 5);
  }
  EXPECT_EQ(total, 2000);
  EXPECT_EQ(json["summary"]["total_samples"], 2000);
  EXPECT_GT(json["summary"]["emd"]["mean"].get<double>(), 0.8) << "Dirichlet(0.1) is far from the global labels";
}

TEST_F(FlotillaPartitionTest, ReadsACoordinatorConfigFileIgnoringItsOtherKeys) {
  const std::string config = dir_ + "/run.toml";
  std::ofstream(config) << "dataset = \"synthetic\"\nclients = 3\npartitioner = \"iid\"\nrounds = 5\nlr = 0.1\n";
  const ToolResult r = run({"--config", config});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "iid over 3 clients, seed 42\n")) << r.output;
  EXPECT_TRUE(contains(r.output, "\n3 clients, 10 classes, 2000 samples\n")) << r.output;
}

TEST_F(FlotillaPartitionTest, BadFlagsExitTwoWithOneLine) {
  const std::vector<std::string> base = {"--dataset", "synthetic", "--clients", "4"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  expect_error(with({"--partitioner", "nope"}), 2, "unknown partitioner 'nope'");
  expect_error({"--dataset", "synthetic", "--clients", "0", "--partitioner", "iid"}, 2,
               "--clients: must be at least 1");
  expect_error({"--dataset", "synthetic", "--partitioner", "iid"}, 2, "--clients is required");
  expect_error({"--dataset", "imagenet", "--clients", "4", "--partitioner", "iid"}, 2, "imagenet");
  expect_error(with({"--partitioner", "iid", "--shards-per-client", "2"}), 2,
               "--shards-per-client does not apply to --partitioner iid");
  // What the coordinator refuses, the preview refuses too, rather than showing a split without it.
  expect_error(with({"--partitioner", "shards", "--alpha", "0.1"}), 2,
               "--alpha does not apply to --partitioner shards (its options: shards_per_client)");
  expect_error(with({"--partitioner", "dirichlet", "--partitioner-opt", "alpha"}), 2, "key=value");
  expect_error(with({"--partitioner", "dirichlet", "--alpha", "-1"}), 2, "alpha");
  expect_error(with({"--partitioner", "iid", "--max-rows", "-1"}), 2, "--max-rows: must be at least 0");
}

TEST_F(FlotillaPartitionTest, DataThatCannotBeLoadedOrSplitExitsOne) {
  const std::string missing = dir_ + "/no-such-dir";
  expect_error({"--dataset", "mnist", "--data-dir", missing, "--clients", "4", "--partitioner", "iid"}, 1, missing);
  // 100 clients of at least 100 samples each from 2000 samples cannot be drawn.
  expect_error(
      {"--dataset", "synthetic", "--clients", "100", "--partitioner", "dirichlet", "--min-partition-size", "100"}, 1,
      "partitioning synthetic");
}

TEST_F(FlotillaPartitionTest, HelpNamesTheFlagsAndExitStatuses) {
  const ToolResult r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* flag :
       {"--dataset", "--clients", "--partitioner", "--alpha", "--min-partition-size", "--shards-per-client",
        "--labels-per-client", "--partitioner-opt", "--seed", "--out", "--max-rows", "--config", "Exit status"})
    EXPECT_TRUE(contains(r.output, flag)) << flag << "\n" << r.output;
}

}  // namespace
}  // namespace flotilla
