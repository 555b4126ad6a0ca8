#include "datasets/site_data.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "datasets/cifar10_bin.h"
#include "datasets/file_bytes.h"
#include "datasets/mnist_idx.h"
#include "datasets/tensor_file.h"
#include "temp_dir.h"
#include "tests/support/text.h"

namespace flotilla {
namespace {

using test_text::contains;

using flotilla::testing::fresh_dir;
namespace fs = std::filesystem;

at::Tensor pixels(int64_t n, at::IntArrayRef sample) {
  std::vector<int64_t> sizes = {n};
  sizes.insert(sizes.end(), sample.begin(), sample.end());
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  return at::arange(numel, at::kLong).mul_(7).remainder_(256).to(at::kByte).view(sizes);
}

void write_pt(const std::string& path, const at::Tensor& x, std::vector<int64_t> labels) {
  ASSERT_TRUE(write_tensor_file(path, x, at::tensor(labels, at::kLong)).ok()) << path;
}

TEST(SiteDataTest, LoadsTensorFilesWithTest) {
  const std::string dir = fresh_dir("pt");
  write_pt(dir + "/train.pt", pixels(3, {1, 4, 4}), {0, 1, 2});
  write_pt(dir + "/test.pt", pixels(2, {1, 4, 4}), {4, 0});
  auto s = load_site_dir(dir, SiteDataOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "local");
  EXPECT_EQ(s->train.size(), 3);
  EXPECT_EQ(s->test.size(), 2);
  EXPECT_EQ(s->train.num_classes, 5);  // the larger of 3 (train) and 5 (test), on both
  EXPECT_EQ(s->test.num_classes, 5);
  EXPECT_TRUE(at::equal(s->test.images, pixels(2, {1, 4, 4})));
  EXPECT_EQ(s->channels(), 1);
}

TEST(SiteDataTest, TestIsOptionalAndTensorFilesWinOverCsv) {
  const std::string dir = fresh_dir("pt_only");
  write_pt(dir + "/train.pt", pixels(3, {2, 2, 2}), {0, 1, 1});
  ASSERT_TRUE(write_file_bytes(dir + "/train.csv", "label,x\n0,1\n", false).ok());
  auto s = load_site_dir(dir, SiteDataOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->train.images.scalar_type(), at::kByte);
  EXPECT_EQ(s->train.size(), 3);
  EXPECT_EQ(s->test.size(), 0);
  EXPECT_FALSE(s->test.images.defined());
}

TEST(SiteDataTest, LoadsCsvWithTheConfiguredLabelColumn) {
  const std::string dir = fresh_dir("csv");
  ASSERT_TRUE(write_file_bytes(dir + "/train.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,1\n", false).ok());
  ASSERT_TRUE(write_file_bytes(dir + "/test.csv", "a,b,y\n7,8,2\n", false).ok());
  SiteDataOptions options;
  EXPECT_EQ(options.label_column, "label");
  options.label_column = "y";
  auto s = load_site_dir(dir, options);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->train.images.sizes(), (at::IntArrayRef{3, 2}));
  EXPECT_EQ(s->test.size(), 1);
  EXPECT_EQ(s->train.num_classes, 3);
  // With the default label column the file has none.
  auto r = load_site_dir(dir, SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(r.status().message(), "no label column \"label\"")) << r.status();
}

TEST(SiteDataTest, CsvSplitsMustHaveTheSameColumns) {
  const std::string dir = fresh_dir("csv_cols");
  ASSERT_TRUE(write_file_bytes(dir + "/train.csv", "a,b,label\n1,2,0\n", false).ok());
  ASSERT_TRUE(write_file_bytes(dir + "/test.csv", "b,a,label\n1,2,0\n", false).ok());
  auto r = load_site_dir(dir, SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(r.status().message(), "\"a\" where " + dir + "/test.csv has \"b\"")) << r.status();
  ASSERT_TRUE(write_file_bytes(dir + "/test.csv", "a,label\n1,0\n", false).ok());
  r = load_site_dir(dir, SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "[2] Float")) << r.status();
  EXPECT_TRUE(contains(r.status().message(), "[1] Float")) << r.status();
}

TEST(SiteDataTest, TrainAndTestMustAgreeInShapeAndDtype) {
  const std::string dir = fresh_dir("shape");
  write_pt(dir + "/train.pt", pixels(2, {1, 4, 4}), {0, 1});
  write_pt(dir + "/test.pt", pixels(2, {3, 4, 4}), {0, 1});
  auto r = load_site_dir(dir, SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(r.status().message(), dir + "/train.pt has samples of shape [1, 4, 4] Byte")) << r.status();
  EXPECT_TRUE(contains(r.status().message(), dir + "/test.pt has samples of shape [3, 4, 4] Byte")) << r.status();

  write_pt(dir + "/test.pt", pixels(2, {1, 4, 4}).to(at::kFloat), {0, 1});
  r = load_site_dir(dir, SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "[1, 4, 4] Float")) << r.status();
}

TEST(SiteDataTest, FileErrorsComeThrough) {
  const std::string dir = fresh_dir("bad_test");
  write_pt(dir + "/train.pt", pixels(2, {4}), {0, 1});
  ASSERT_TRUE(write_file_bytes(dir + "/test.pt", "junk", false).ok());
  auto r = load_site_dir(dir, SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(contains(r.status().message(), dir + "/test.pt")) << r.status();
}

TEST(SiteDataTest, DelegatesToMnistIdx) {
  const std::string dir = fresh_dir("mnist");
  const at::Tensor images = pixels(4, {28, 28});
  const at::Tensor labels = at::tensor({0, 9, 3, 3}, at::kLong);
  ASSERT_TRUE(write_idx_images(dir + "/train-images-idx3-ubyte.gz", images, true).ok());
  ASSERT_TRUE(write_idx_labels(dir + "/train-labels-idx1-ubyte.gz", labels, true).ok());
  ASSERT_TRUE(write_idx_images(dir + "/t10k-images-idx3-ubyte", images.narrow(0, 0, 2), false).ok());
  ASSERT_TRUE(write_idx_labels(dir + "/t10k-labels-idx1-ubyte", labels.narrow(0, 0, 2), false).ok());
  auto s = load_site_dir(dir, SiteDataOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "local");
  EXPECT_EQ(s->train.images.sizes(), (at::IntArrayRef{4, 1, 28, 28}));
  EXPECT_EQ(s->test.size(), 2);
  EXPECT_EQ(s->train.mean, std::vector<double>{0.1307});  // MNIST's statistics stay
}

TEST(SiteDataTest, DelegatesToCifar10) {
  const std::string dir = fresh_dir("cifar");
  const std::string folder = dir + "/cifar-10-batches-bin";
  fs::create_directories(folder);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(write_cifar10_bin(folder + "/data_batch_" + std::to_string(i) + ".bin", pixels(2, {3, 32, 32}),
                                  at::tensor({i, 0}, at::kLong))
                    .ok());
  }
  ASSERT_TRUE(
      write_cifar10_bin(folder + "/test_batch.bin", pixels(3, {3, 32, 32}), at::tensor({1, 2, 3}, at::kLong)).ok());
  auto s = load_site_dir(dir, SiteDataOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "local");
  EXPECT_EQ(s->train.size(), 10);
  EXPECT_EQ(s->test.size(), 3);
  EXPECT_EQ(s->class_names.size(), 10u);
}

TEST(SiteDataTest, EmptyOrMissingFolderIsNotFound) {
  const std::string dir = fresh_dir("empty");
  auto r = load_site_dir(dir, SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  for (const char* part :
       {"train.pt", "train.csv", "train-images-idx3-ubyte", "cifar-10-batches-bin", "data_batch_1.bin"})
    EXPECT_TRUE(contains(r.status().message(), part)) << r.status();
  EXPECT_TRUE(contains(r.status().message(), dir)) << r.status();

  r = load_site_dir(dir + "/nope", SiteDataOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(r.status().message(), dir + "/nope: no such folder")) << r.status();
}

TEST(SiteDataTest, SiteDirForFindsClientFoldersOrTheRoot) {
  const std::string root = fresh_dir("root");
  fs::create_directories(root + "/client_3");
  auto d = site_dir_for(root, 3, /*only_client=*/false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, root + "/client_3");
  EXPECT_EQ(*site_dir_for(root, 3, /*only_client=*/true), root + "/client_3");  // the client folder still wins

  // No client_4 and no data in the root.
  for (bool only : {false, true}) {
    auto r = site_dir_for(root, 4, only);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(contains(r.status().message(), root + "/client_4 does not exist")) << r.status();
    if (only) {
      EXPECT_TRUE(contains(r.status().message(), "train.pt")) << r.status();
    }
  }

  // A single client's data right in the root.
  write_pt(root + "/train.pt", pixels(2, {3}), {0, 1});
  EXPECT_EQ(*site_dir_for(root, 4, /*only_client=*/true), root);
  EXPECT_FALSE(site_dir_for(root, 4, /*only_client=*/false).ok());  // one of many: it needs its own folder

  auto r = site_dir_for(root + "/nope", 0, true);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), root + "/nope")) << r.status();
}

TEST(SiteDataTest, InputStatsOfBytesAreOnTheZeroToOneScaleAndAddUp) {
  TensorDataset d;
  d.images = pixels(5, {2, 3, 3});
  d.labels = at::zeros({5}, at::kLong);
  const InputStats all = input_stats(d);
  ASSERT_EQ(all.sum.size(), 2u);
  EXPECT_EQ(all.count, 5 * 9);
  const at::Tensor x = d.images.to(at::kDouble).div(255);
  for (int64_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(all.sum[c], x.select(1, c).sum().item<double>(), 1e-9);
    EXPECT_NEAR(all.sum_sq[c], x.select(1, c).pow(2).sum().item<double>(), 1e-9);
  }
  // Sums of two sites' stats are the stats of their union: what a federation relies on.
  const InputStats a = input_stats(d.select(at::tensor({0, 1}, at::kLong)));
  const InputStats b = input_stats(d.select(at::tensor({2, 3, 4}, at::kLong)));
  EXPECT_EQ(a.count + b.count, all.count);
  for (size_t c = 0; c < 2; ++c) EXPECT_NEAR(a.sum[c] + b.sum[c], all.sum[c], 1e-12);
  const auto [mean, std] = mean_std(all);
  for (int64_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(mean[c], x.select(1, c).mean().item<double>(), 1e-12);
    EXPECT_NEAR(std[c], x.select(1, c).std(/*unbiased=*/false).item<double>(), 1e-9);
  }
}

TEST(SiteDataTest, TabularStatsNormaliseEachFeature) {
  TensorDataset d;
  // Two features on very different scales, and a constant third one; enough rows for two chunks.
  const int64_t n = 3000;
  const at::Tensor i = at::arange(n, at::kFloat);
  d.images = at::stack({i.remainder(7), i.mul(1000), at::full({n}, 0.3f)}, 1);
  d.labels = at::zeros({n}, at::kLong);
  const InputStats s = input_stats(d);
  EXPECT_EQ(s.count, n);
  auto [mean, std] = mean_std(s);
  EXPECT_EQ(std[2], 1.0);  // no spread: subtract the mean only
  EXPECT_NEAR(mean[2], 0.3, 1e-6);
  d.mean = mean;
  d.std = std;
  const at::Tensor z = d.normalize(d.images);
  EXPECT_NEAR(z.select(1, 0).mean().item<double>(), 0, 1e-4);
  EXPECT_NEAR(z.select(1, 1).std(false).item<double>(), 1, 1e-4);
  EXPECT_NEAR(z.select(1, 2).abs().max().item<double>(), 0, 1e-6);
}

TEST(SiteDataTest, EmptyStats) {
  const InputStats none = input_stats(TensorDataset());
  EXPECT_EQ(none.count, 0);
  EXPECT_TRUE(none.sum.empty());
  InputStats zero;
  zero.sum = {0, 0};
  zero.sum_sq = {0, 0};
  const auto [mean, std] = mean_std(zero);
  EXPECT_EQ(mean, (std::vector<double>{0, 0}));
  EXPECT_EQ(std, (std::vector<double>{1, 1}));
}

TEST(SiteDataTest, LabelCounts) {
  TensorDataset d;
  d.labels = at::tensor({2, 0, 2, 2}, at::kLong);
  d.num_classes = 3;
  EXPECT_EQ(label_counts(d, 3), (std::vector<int64_t>{1, 0, 3}));
  EXPECT_EQ(label_counts(d, 5), (std::vector<int64_t>{1, 0, 3, 0, 0}));
  EXPECT_EQ(label_counts(TensorDataset(), 2), (std::vector<int64_t>{0, 0}));
  EXPECT_DEATH((void)label_counts(d, 2), "label 2 is outside 0..1");
}

}  // namespace
}  // namespace flotilla
