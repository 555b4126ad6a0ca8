#include "datasets/mnist_idx.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>

#include "datasets/dataset_loader.h"
#include "datasets/file_bytes.h"
#include "temp_dir.h"

namespace flotilla {
namespace {

using flotilla::testing::fresh_dir;

at::Tensor small_images(int64_t n) {
  return at::arange(n * 28 * 28, at::kLong).remainder(256).to(at::kByte).view({n, 28, 28});
}
at::Tensor small_labels(int64_t n) { return at::arange(n, at::kLong).remainder(10); }

// Writes a complete small MNIST-style folder.
void write_dataset(const std::string& dir, bool gzip, int64_t train = 30, int64_t test = 10) {
  const std::string ext = gzip ? ".gz" : "";
  ASSERT_TRUE(write_idx_images(dir + "/train-images-idx3-ubyte" + ext, small_images(train), gzip).ok());
  ASSERT_TRUE(write_idx_labels(dir + "/train-labels-idx1-ubyte" + ext, small_labels(train), gzip).ok());
  ASSERT_TRUE(write_idx_images(dir + "/t10k-images-idx3-ubyte" + ext, small_images(test), gzip).ok());
  ASSERT_TRUE(write_idx_labels(dir + "/t10k-labels-idx1-ubyte" + ext, small_labels(test), gzip).ok());
}

void truncate_file(const std::string& path, size_t keep) {
  auto bytes = read_file_bytes(path);
  ASSERT_TRUE(bytes.ok());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes->substr(0, keep);
}

TEST(MnistIdxTest, RoundTripsRawAndGzip) {
  for (bool gzip : {false, true}) {
    const std::string dir = fresh_dir(gzip ? "gz" : "raw");
    write_dataset(dir, gzip);
    auto images = read_idx_images(dir + "/train-images-idx3-ubyte" + (gzip ? ".gz" : ""));
    ASSERT_TRUE(images.ok()) << images.status();
    EXPECT_TRUE(at::equal(*images, small_images(30)));
    auto splits = load_mnist_dir(dir, "mnist");
    ASSERT_TRUE(splits.ok()) << splits.status();
    EXPECT_EQ(splits->train.images.sizes(), (at::IntArrayRef{30, 1, 28, 28}));
    EXPECT_EQ(splits->test.size(), 10);
    EXPECT_TRUE(at::equal(splits->train.labels, small_labels(30)));
    // Normalised: pixel 0 -> (0 - 0.1307) / 0.3081.
    EXPECT_EQ(splits->train.images.scalar_type(), at::kByte);
    const at::Tensor x = splits->train.normalize(splits->train.images.narrow(0, 0, 1));
    EXPECT_EQ(x.scalar_type(), at::kFloat);
    EXPECT_NEAR(x[0][0][0][0].item<float>(), -0.1307 / 0.3081, 1e-5);
  }
}

TEST(MnistIdxTest, TruncatedFileIsDataLossNamingTheFile) {
  const std::string dir = fresh_dir("trunc");
  write_dataset(dir, false);
  const std::string path = dir + "/train-images-idx3-ubyte";
  truncate_file(path, 16 + 28 * 28 * 5 + 3);
  auto r = read_idx_images(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);
  EXPECT_FALSE(load_mnist_dir(dir, "mnist").ok());
}

TEST(MnistIdxTest, TruncatedGzipIsDataLoss) {
  const std::string dir = fresh_dir("gztrunc");
  write_dataset(dir, true);
  const std::string path = dir + "/train-images-idx3-ubyte.gz";
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  auto r = read_idx_images(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("gzip"), std::string::npos) << r.status();
}

TEST(MnistIdxTest, BadMagicLabelsAndCountsAreNamed) {
  const std::string dir = fresh_dir("bad");
  write_dataset(dir, false);
  // Images read as labels: wrong magic.
  auto wrong = read_idx_labels(dir + "/train-images-idx3-ubyte");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("bad magic number 0x00000803"), std::string::npos) << wrong.status();
  // A label of 12.
  ASSERT_TRUE(write_idx_labels(dir + "/t10k-labels-idx1-ubyte", at::tensor({1, 12, 3}, at::kLong), false).ok());
  auto label = read_idx_labels(dir + "/t10k-labels-idx1-ubyte");
  ASSERT_FALSE(label.ok());
  EXPECT_NE(label.status().message().find("label 12 of sample 1"), std::string::npos) << label.status();
  // 3 labels for 10 test images.
  ASSERT_TRUE(write_idx_labels(dir + "/t10k-labels-idx1-ubyte", small_labels(3), false).ok());
  auto counts = load_mnist_dir(dir, "mnist");
  ASSERT_FALSE(counts.ok());
  EXPECT_NE(counts.status().message().find("10 images but"), std::string::npos) << counts.status();
  // Trailing garbage.
  std::ofstream(dir + "/train-labels-idx1-ubyte", std::ios::binary | std::ios::app) << "xx";
  EXPECT_NE(read_idx_labels(dir + "/train-labels-idx1-ubyte").status().message().find("trailing"), std::string::npos);
}

TEST(MnistIdxTest, ParsesBytesInMemoryNamingTheirSource) {
  const std::string dir = fresh_dir("bytes");
  write_dataset(dir, true);
  // The gzipped file's bytes as they are on disk: decompress_if_gzip + parse_* is read_idx_*.
  std::ifstream in(dir + "/train-labels-idx1-ubyte.gz", std::ios::binary);
  const std::string gz((std::istreambuf_iterator<char>(in)), {});
  auto raw = decompress_if_gzip(gz, "labels.gz");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->size(), 8u + 30);
  auto labels = parse_idx_labels(*raw, "labels.gz");
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_TRUE(at::equal(*labels, small_labels(30)));
  // Not gzip: unchanged.
  EXPECT_EQ(*decompress_if_gzip(*raw, "x"), *raw);

  auto truncated = decompress_if_gzip(gz.substr(0, gz.size() - 5), "labels.gz");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(truncated.status().message().rfind("labels.gz: ", 0), 0u) << truncated.status();
  auto images = parse_idx_images(*raw, "in-memory");
  ASSERT_FALSE(images.ok());
  EXPECT_NE(images.status().message().find("in-memory: bad magic number 0x00000801"), std::string::npos)
      << images.status();
}

// Found by idx_fuzzer: a zero dimension made the payload empty, so the file size matched, while
// the other dimensions' product (a stride) overflowed int64 in byte_tensor and in torch.
TEST(MnistIdxTest, DimensionsWhoseProductOverflowsAreDataLoss) {
  const std::string header("\x00\x00\x08\x03\xff\xff\xff\xae\xaa\x00\x00\x60\x00\x00\x00\x00", 16);
  auto r = parse_idx_images(header, "huge");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("huge: header declares dimensions 4294967214 x 2852126816 x 0, whose product"),
            std::string::npos)
      << r.status();
  // Zero images of a representable size are fine.
  const std::string empty("\x00\x00\x08\x03\x00\x00\x00\x00\x00\x00\x00\x1c\x00\x00\x00\x1c", 16);
  auto ok = parse_idx_images(empty, "empty");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->sizes(), (at::IntArrayRef{0, 28, 28}));
}

TEST(MnistIdxTest, MissingFilesSayWhatWasTried) {
  const std::string dir = fresh_dir("missing");
  auto r = load_dataset("mnist", dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("train-images-idx3-ubyte.gz"), std::string::npos) << r.status();
}

TEST(DatasetLoaderTest, UnknownNameListsKnownOnes) {
  auto r = load_dataset("imagenet", "/tmp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mnist, fashion-mnist, cifar10, synthetic"), std::string::npos);
  EXPECT_EQ(default_data_dir("fashion-mnist"), "/usr/share/datasets/fashion-mnist");
}

}  // namespace
}  // namespace flotilla
