// load_local_data / describe_local_data: what a site's registration says of its files, from files
// this test writes (no Python): sizes, shape, dtype, classes, label counts (or none when withheld)
// and the input sums federated normalisation is computed from.
#include "client/local_data.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "datasets/tensor_file.h"

namespace flotilla {
namespace {

namespace fs = std::filesystem;

class LocalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flotilla-local-data-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // uint8 images [n, 1, 2, 2] whose pixels are all `value`, labels as given.
  void write(const std::string& site, const std::string& file, int64_t value, std::vector<int64_t> labels) {
    fs::create_directories(dir_ / site);
    const auto n = static_cast<int64_t>(labels.size());
    at::Tensor x = at::full({n, 1, 2, 2}, value, at::kByte);
    ASSERT_TRUE(write_tensor_file((dir_ / site / file).string(), x, at::tensor(labels, at::kLong)).ok());
  }

  fs::path dir_;
};

TEST_F(LocalDataTest, ASiteWithoutTestFilesReportsTheClassesOfItsTrainingFile) {
  write("client_3", "train.pt", 51, {0, 1, 3, 3, 1});
  auto data = load_local_data({3}, LocalDataOptions{dir_.string(), {}, false});
  ASSERT_TRUE(data.ok()) << data.status();
  const msg::DataReport& r = data->at(3).report;
  EXPECT_EQ(r.client_id, 3);
  EXPECT_EQ(r.train_samples, 5);
  EXPECT_EQ(r.test_samples, 0);
  EXPECT_EQ(r.num_classes, 4);  // largest label + 1, not the empty test split's default
  EXPECT_EQ(r.sample_shape, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(r.dtype, "uint8");
  EXPECT_EQ(r.label_counts, (std::vector<int64_t>{1, 2, 0, 2}));
  ASSERT_EQ(r.input_sum.size(), 1u);
  EXPECT_NEAR(r.input_sum[0], 20 * 0.2, 1e-9);  // 20 pixels of 51/255
  EXPECT_NEAR(r.input_sum_sq[0], 20 * 0.04, 1e-9);
  EXPECT_EQ(r.input_count, 20);
}

TEST_F(LocalDataTest, TestLabelsWidenTheClassesAndWithheldCountsStayHome) {
  write("client_0", "train.pt", 0, {0, 1});
  write("client_0", "test.pt", 0, {5});
  auto data = load_local_data({0}, LocalDataOptions{dir_.string(), {}, /*withhold_label_counts=*/true});
  ASSERT_TRUE(data.ok()) << data.status();
  const msg::DataReport& r = data->at(0).report;
  EXPECT_EQ(r.num_classes, 6);
  EXPECT_EQ(r.test_samples, 1);
  EXPECT_TRUE(r.label_counts.empty());
}

TEST_F(LocalDataTest, AClientWithoutDataIsNamed) {
  write("client_0", "train.pt", 0, {0, 1});
  auto data = load_local_data({0, 1}, LocalDataOptions{dir_.string(), {}, false});
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.status().message().find("client_1"), std::string::npos) << data.status();
}

}  // namespace
}  // namespace flotilla
