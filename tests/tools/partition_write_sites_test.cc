// flotilla-partition --write-sites end to end: the built binary on a small MNIST-format data set the
// test writes (IDX files, every training image carrying its own row number in its first two
// pixels), read back with the reader a client of --dataset local uses. Each client's train.pt must
// hold exactly its partition's rows (recomputed in-process through the coordinator's own path), in
// index order, with their labels; the shares together must be the partition; test.pt must be the
// test split; and the slices a client cuts from its file (training/experiment_setup.h) must be the
// very rows a run on the public data set gives it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "datasets/dataset_loader.h"
#include "datasets/mnist_idx.h"
#include "datasets/tensor_file.h"
#include "partitioners/partitioner_flags.h"
#include "tests/integration/process.h"
#include "training/experiment_setup.h"

namespace flotilla {
namespace {

using testing::ChildProcess;

constexpr int64_t kTrain = 600;
constexpr int64_t kTest = 70;

// Row i: pixel 0 = i % 256, pixel 1 = i / 256, the rest a pattern of the label; label = a skewed
// function of i, so that a Dirichlet split leaves some clients without some classes.
at::Tensor images_for(const at::Tensor& labels) {
  const int64_t n = labels.size(0);
  at::Tensor x = (labels.view({n, 1, 1}) * 23 + at::arange(28, at::kLong).view({1, 28, 1}) +
                  at::arange(28, at::kLong).view({1, 1, 28}))
                     .remainder(256)
                     .to(at::kByte)
                     .contiguous();
  const at::Tensor row = at::arange(n, at::kLong);
  x.view({n, 28 * 28}).select(1, 0).copy_(row.remainder(256));
  x.view({n, 28 * 28}).select(1, 1).copy_(row.div(256, "floor"));
  return x;
}
at::Tensor labels_for(int64_t n) { return (at::arange(n, at::kLong) * 7).remainder(13).remainder(10); }

// The row number images_for() wrote into each image of x ([K, 1, 28, 28] uint8).
std::vector<int64_t> row_numbers(const at::Tensor& x) {
  const at::Tensor flat = x.reshape({x.size(0), -1}).to(at::kLong);
  const at::Tensor rows = flat.select(1, 0) + flat.select(1, 1) * 256;
  return std::vector<int64_t>(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel());
}

std::vector<int64_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

class PartitionWriteSitesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("flotilla-partition-sites-test");
    ASSERT_FALSE(dir_.empty());
    data_dir_ = dir_ + "/mnist";
    std::filesystem::create_directories(data_dir_);
    const at::Tensor train_labels = labels_for(kTrain), test_labels = labels_for(kTest).flip(0);
    ASSERT_TRUE(write_idx_images(data_dir_ + "/train-images-idx3-ubyte.gz", images_for(train_labels), true).ok());
    ASSERT_TRUE(write_idx_labels(data_dir_ + "/train-labels-idx1-ubyte.gz", train_labels, true).ok());
    ASSERT_TRUE(write_idx_images(data_dir_ + "/t10k-images-idx3-ubyte", images_for(test_labels), false).ok());
    ASSERT_TRUE(write_idx_labels(data_dir_ + "/t10k-labels-idx1-ubyte", test_labels, false).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::pair<int, std::string> run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-partition"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess tool(argv, dir_ + "/tool.log");
    EXPECT_TRUE(tool.started()) << argv[0];
    const int code = tool.wait_for(std::chrono::seconds(60));
    return {code, tool.log()};
  }

  std::string dir_, data_dir_;
};

TEST_F(PartitionWriteSitesTest, EachClientsFileHoldsItsPartitionsRowsAndTestPtTheTestSplit) {
  constexpr int kClients = 5;
  const std::string sites = dir_ + "/sites";
  const auto [code, output] =
      run({"--dataset", "mnist", "--data-dir", data_dir_, "--clients", std::to_string(kClients), "--partitioner",
           "dirichlet", "--alpha", "0.3", "--min-partition-size", "10", "--seed", "11", "--write-sites", sites});
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("wrote " + sites + "/client_{0..4}/train.pt and " + sites + "/test.pt (70 test samples)\n"),
            std::string::npos)
      << output;

  // The split a run with these flags makes, through the coordinator's own functions.
  auto data = load_dataset("mnist", data_dir_);
  ASSERT_TRUE(data.ok()) << data.status();
  Experiment ex;
  ex.dataset = "mnist";
  ex.num_clients = kClients;
  ex.partitioner = "dirichlet";
  ex.seed = 11;
  ex.holdout_fraction = 0.1;
  PartitionerFlags flags;
  flags.alpha = 0.3;
  flags.min_partition_size = 10;
  auto options = partitioner_options_from_flags("dirichlet", flags);
  ASSERT_TRUE(options.ok()) << options.status();
  ex.partitioner_options = *options;
  auto partition = partition_for(ex, data->train);
  ASSERT_TRUE(partition.ok()) << partition.status();

  std::set<int64_t> all_rows;
  int64_t total = 0;
  bool some_client_lacks_class_9 = false;
  for (int k = 0; k < kClients; ++k) {
    SCOPED_TRACE("client " + std::to_string(k));
    const std::string path = sites + "/client_" + std::to_string(k) + "/train.pt";
    ASSERT_TRUE(std::filesystem::exists(path));
    auto file = read_tensor_file(path);
    ASSERT_TRUE(file.ok()) << file.status();
    const auto& indices = partition->client_indices[static_cast<size_t>(k)];
    EXPECT_EQ(file->images.scalar_type(), at::kByte);
    EXPECT_EQ(file->labels.scalar_type(), at::kLong);
    ASSERT_EQ(file->images.sizes(), (at::IntArrayRef{static_cast<int64_t>(indices.size()), 1, 28, 28}));
    // The rows, in index order, are the partition's, and their labels and pixels are the data set's.
    EXPECT_EQ(row_numbers(file->images), indices);
    const at::Tensor expected_rows = at::tensor(indices, at::kLong);
    EXPECT_TRUE(at::equal(file->images, data->train.images.index_select(0, expected_rows)));
    EXPECT_TRUE(at::equal(file->labels, data->train.labels.index_select(0, expected_rows)));
    // Every file states the data set's 10 classes, whichever its share holds.
    EXPECT_EQ(file->num_classes, 10);
    if (file->labels.max().item<int64_t>() < 9) some_client_lacks_class_9 = true;
    all_rows.insert(indices.begin(), indices.end());
    total += file->size();

    // A --dataset local client on this file trains and holds out the rows the public run gives it.
    const ClientData from_public = client_data(*data, *partition, k, ex);
    const ClientData from_file = client_data(*file, k, ex);
    ASSERT_GT(from_public.holdout.size(), 0);
    EXPECT_TRUE(at::equal(from_file.train.images, from_public.train.images));
    EXPECT_TRUE(at::equal(from_file.train.labels, from_public.train.labels));
    EXPECT_TRUE(at::equal(from_file.holdout.images, from_public.holdout.images));
    EXPECT_TRUE(at::equal(from_file.holdout.labels, from_public.holdout.labels));
  }
  EXPECT_TRUE(some_client_lacks_class_9) << "the check of num_classes above needs a client without class 9";
  // Disjoint shares whose union is the partition (Dirichlet hands out every row).
  EXPECT_EQ(static_cast<int64_t>(all_rows.size()), total);
  EXPECT_EQ(total, kTrain);
  EXPECT_FALSE(std::filesystem::exists(sites + "/client_5"));

  auto test = read_tensor_file(sites + "/test.pt");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_TRUE(at::equal(test->images, data->test.images));
  EXPECT_TRUE(at::equal(test->labels, data->test.labels));
  EXPECT_EQ(test->num_classes, 10);
}

TEST_F(PartitionWriteSitesTest, IidOverThreeClientsWritesThreeSites) {
  const std::string sites = dir_ + "/iid";
  const auto [code, output] = run({"--dataset", "mnist", "--data-dir", data_dir_, "--clients", "3", "--partitioner",
                                   "iid", "--write-sites", sites, "--max-rows", "0"});
  ASSERT_EQ(code, 0) << output;
  int64_t total = 0;
  for (int k = 0; k < 3; ++k) {
    auto file = read_tensor_file(sites + "/client_" + std::to_string(k) + "/train.pt");
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->size(), kTrain / 3);
    const std::vector<int64_t> rows = row_numbers(file->images);
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
    EXPECT_EQ(to_vector(file->labels), to_vector(labels_for(kTrain).index_select(0, at::tensor(rows, at::kLong))));
    total += file->size();
  }
  EXPECT_EQ(total, kTrain);
}

TEST_F(PartitionWriteSitesTest, AFolderThatCannotBeWrittenExitsOneWithOneLine) {
  const std::string blocker = dir_ + "/a-file";
  std::ofstream(blocker) << "not a folder";
  const auto [code, output] = run({"--dataset", "mnist", "--data-dir", data_dir_, "--clients", "2", "--partitioner",
                                   "iid", "--write-sites", blocker + "/sites"});
  EXPECT_EQ(code, 1) << output;
  // The table comes first; the last line is the error, naming the folder.
  std::string last;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) last = line;
  EXPECT_EQ(last.rfind("error: cannot create " + blocker + "/sites", 0), 0u) << output;
}

TEST_F(PartitionWriteSitesTest, HelpNamesWriteSites) {
  const auto [code, output] = run({"--help"});
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("--write-sites"), std::string::npos) << output;
}

}  // namespace
}  // namespace flotilla
