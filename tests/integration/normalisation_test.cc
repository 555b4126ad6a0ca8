// A public data set's input normalisation on real processes (protocol 11): --normalize none feeds
// the model pixels on the 0..1 scale (NIID-Bench's ToTensor()), given replaces the reader's
// statistics with the flags', and the clients train with what the coordinator says. Checked by
// the final model: given with the MNIST reader's own constants is the default run bit for bit,
// and none is another model; a mismatch anywhere (a client keeping its reader's statistics, the
// coordinator evaluating with other ones) would break one of the two.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cluster.h"
#include "datasets/mnist_idx.h"
#include "process.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;
using flotilla::testing::ChildProcess;
using flotilla::testing::final_model_sha;
using flotilla::testing::LocalCluster;
using nlohmann::json;

// A small MNIST-format folder: 28x28 digits of seeded noise whose brightness depends on the class,
// so that the mean the reader subtracts matters.
void write_small_mnist(const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& prefix, int64_t n, uint64_t seed) {
    at::manual_seed(seed);
    at::Tensor labels = at::arange(n, at::kLong).remainder(10);
    at::Tensor images = (at::randint(0, 120, {n, 28, 28}, at::kLong) + labels.view({n, 1, 1}) * 12).to(at::kByte);
    ASSERT_TRUE(write_idx_images(dir + "/" + prefix + "-images-idx3-ubyte", images, false).ok());
    ASSERT_TRUE(write_idx_labels(dir + "/" + prefix + "-labels-idx1-ubyte", labels, false).ok());
  };
  write("train", 200, 1);
  write("t10k", 50, 2);
}

struct NormalisedRun {
  std::string model_sha;
  json config;
  std::string log;
};

NormalisedRun run_with(const std::string& name, const std::vector<std::string>& normalisation) {
  LocalCluster cluster("normalisation-" + name);
  const std::string data = cluster.dir() + "/mnist";
  write_small_mnist(data);
  std::vector<std::string> args = {"--dataset",     "mnist", "--data-dir", data,  "--model",  "mlp",
                                   "--clients",     "2",     "--rounds",   "1",   "--epochs", "1",
                                   "--batch-size",  "20",    "--lr",       "0.1", "--seed",   "3",
                                   "--partitioner", "iid",   "--threads",  "1"};
  args.insert(args.end(), normalisation.begin(), normalisation.end());
  EXPECT_TRUE(cluster.start_coordinator(args));
  cluster.start_client("0,1", {"--data-dir", data});
  EXPECT_EQ(cluster.wait_coordinator(120s), 0) << cluster.coordinator_log();
  NormalisedRun run;
  run.model_sha = final_model_sha(cluster.rounds());
  std::ifstream in(cluster.run_dir() + "/config.json");
  run.config = json::parse(in, nullptr, /*allow_exceptions=*/false);
  run.log = cluster.coordinator_log();
  return run;
}

TEST(NormalisationRunTest, PublicDataSetsTrainWithTheNormalisationTheCoordinatorSets) {
  const NormalisedRun reader = run_with("auto", {});
  const NormalisedRun given =
      run_with("given", {"--normalize", "given", "--input-mean", "0.1307", "--input-std", "0.3081"});
  const NormalisedRun raw = run_with("none", {"--normalize", "none"});
  ASSERT_FALSE(reader.model_sha.empty()) << reader.log;
  EXPECT_EQ(given.model_sha, reader.model_sha) << "given with the reader's own constants must be the default run";
  EXPECT_NE(raw.model_sha, reader.model_sha) << "pixels on 0..1 must train another model";
  EXPECT_EQ(reader.config.value("normalize", ""), "auto");
  EXPECT_EQ(raw.config.value("normalize", ""), "none");
  EXPECT_NE(raw.log.find("input normalisation none: mean 0, std 1"), std::string::npos) << raw.log;
}

TEST(NormalisationRunTest, GivenStatisticsOfAnotherChannelCountAreRefused) {
  LocalCluster cluster("normalisation-channels");
  const std::string data = cluster.dir() + "/mnist";
  write_small_mnist(data);
  ChildProcess refused({flotilla::testing::kBinDir + "/flotilla-coordinator", "--bind", "tcp://127.0.0.1:*", "--out",
                        cluster.dir() + "/run", "--dataset", "mnist", "--data-dir", data, "--model", "mlp", "--clients",
                        "2", "--normalize", "given", "--input-mean", "0.5,0.5,0.5", "--input-std", "0.2,0.2,0.2"},
                       cluster.dir() + "/refused.log");
  EXPECT_EQ(refused.wait_for(60s), 1) << refused.log();
  EXPECT_NE(refused.log().find("--input-mean/--input-std give 3 channel(s); mnist has 1"), std::string::npos)
      << refused.log();
}

}  // namespace
}  // namespace flotilla
