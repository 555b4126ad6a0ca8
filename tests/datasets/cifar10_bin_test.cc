#include "datasets/cifar10_bin.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace flotilla {
namespace {

using flotilla::testing::fresh_dir;

at::Tensor images_of(int64_t n, int64_t offset) {
  return at::arange(n * 3072, at::kLong).add(offset).remainder(256).to(at::kByte).view({n, 3, 32, 32});
}

void write_batches(const std::string& folder, int64_t per_file) {
  std::filesystem::create_directories(folder);
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(write_cifar10_bin(folder + "/data_batch_" + std::to_string(i) + ".bin", images_of(per_file, i),
                                  at::arange(per_file, at::kLong).remainder(10))
                    .ok());
  ASSERT_TRUE(
      write_cifar10_bin(folder + "/test_batch.bin", images_of(per_file, 0), at::full({per_file}, 3, at::kLong)).ok());
}

TEST(Cifar10BinTest, RecordsRoundTripWithPlanarChannels) {
  const std::string dir = fresh_dir("rt");
  const at::Tensor images = images_of(4, 7);
  ASSERT_TRUE(write_cifar10_bin(dir + "/b.bin", images, at::tensor({9, 0, 1, 2}, at::kLong)).ok());
  // Record layout: label byte, then the R plane, G plane, B plane.
  std::ifstream in(dir + "/b.bin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(bytes.size(), 4u * 3073);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 9);
  EXPECT_EQ(static_cast<unsigned char>(bytes[1 + 1024]), images[0][1][0][0].item<uint8_t>());
  auto r = read_cifar10_bin(dir + "/b.bin");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(at::equal(r->images, images));
  EXPECT_TRUE(at::equal(r->labels, at::tensor({9, 0, 1, 2}, at::kLong)));
}

TEST(Cifar10BinTest, ParsesBytesInMemoryNamingTheirSource) {
  const std::string dir = fresh_dir("bytes");
  const at::Tensor images = images_of(2, 3);
  ASSERT_TRUE(write_cifar10_bin(dir + "/b.bin", images, at::tensor({4, 5}, at::kLong)).ok());
  std::ifstream in(dir + "/b.bin", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto r = parse_cifar10_bin(bytes, "batch");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(at::equal(r->images, images));
  EXPECT_TRUE(at::equal(r->labels, at::tensor({4, 5}, at::kLong)));
  auto bad = parse_cifar10_bin(bytes.substr(1), "batch");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("batch: 6145 bytes", 0), 0u) << bad.status();
}

TEST(Cifar10BinTest, LoadsFolderOrItsParentAndNormalises) {
  const std::string dir = fresh_dir("load");
  write_batches(dir + "/cifar-10-batches-bin", 6);
  for (const std::string& where : {dir, dir + "/cifar-10-batches-bin"}) {
    auto s = load_cifar10_dir(where);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->train.images.sizes(), (at::IntArrayRef{30, 3, 32, 32}));
    EXPECT_EQ(s->test.size(), 6);
    EXPECT_EQ(s->class_names.size(), 10u);
    // First train pixel: (1 / 255 - 0.4914) / 0.2470 on the red channel.
    EXPECT_EQ(s->train.images.scalar_type(), at::kByte);
    const at::Tensor x = s->train.normalize(s->train.images.narrow(0, 0, 1));
    EXPECT_NEAR(x[0][0][0][0].item<float>(), (1.0 / 255 - 0.4914) / 0.2470, 1e-5);
  }
}

TEST(Cifar10BinTest, BadSizeBadLabelAndMissingFilesAreNamed) {
  const std::string dir = fresh_dir("bad");
  std::ofstream(dir + "/short.bin", std::ios::binary) << std::string(3073 + 5, '\0');
  auto size = read_cifar10_bin(dir + "/short.bin");
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(size.status().message().find("short.bin"), std::string::npos);

  ASSERT_TRUE(write_cifar10_bin(dir + "/label.bin", images_of(3, 0), at::tensor({1, 2, 200}, at::kLong)).ok());
  auto label = read_cifar10_bin(dir + "/label.bin");
  ASSERT_FALSE(label.ok());
  EXPECT_NE(label.status().message().find("record 2 has label 200"), std::string::npos) << label.status();

  auto missing = load_cifar10_dir(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("data_batch_1.bin"), std::string::npos);
}

}  // namespace
}  // namespace flotilla
