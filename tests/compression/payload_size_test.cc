// Payload sizes on the FedAvg paper's MNIST CNN (1,663,370 float32 parameters, 6,653,480 bytes):
// each codec's bytes follow its formula exactly.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/compression/codec_test_util.h"

namespace flotilla {
namespace {

int64_t payload_bytes(const std::string& spec, const ModelState& delta) {
  return testing::codec(spec)->encode(delta, 1).value().byte_size();
}

TEST(PayloadSizeTest, MnistCnn) {
  const ModelState delta = testing::mnist_cnn_update(1);
  const int64_t n = delta.numel();
  ASSERT_EQ(n, 1'663'370);
  ASSERT_EQ(delta.byte_size(), 4 * n);
  struct Row {
    const char* spec;
    int64_t bytes;  // by the formula in update_codec.h
  };
  // qsgd: one byte per element and 4 per bucket of 1024: 1 + 1 + 50 + 1 + 1568 + 1 + 5 + 1 = 1628 buckets.
  // topk: 8 bytes per kept entry, k = max(1, round(0.01 n)) per tensor: 8 + 1 + 512 + 1 + 16056 + 5 + 51 + 1.
  const Row rows[] = {{"none", 4 * n},      {"fp16", 2 * n},
                      {"bf16", 2 * n},      {"qsgd", n + 4 * 1628},
                      {"topk", 8 * 16'635}, {"topk:ratio=0.001", 8 * (1 + 1 + 51 + 1 + 1606 + 1 + 5 + 1)}};
  for (const auto& row : rows) {
    const int64_t bytes = payload_bytes(row.spec, delta);
    EXPECT_EQ(bytes, row.bytes) << row.spec;
    std::printf("%-18s %10lld bytes  %.4f of float32\n", row.spec, static_cast<long long>(bytes),
                static_cast<double>(bytes) / static_cast<double>(4 * n));
  }
}

}  // namespace
}  // namespace flotilla
