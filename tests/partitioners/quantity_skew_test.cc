#include "partitioners/quantity_skew.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "partition_test_util.h"

namespace flotilla {
namespace {

using testing::balanced_labels;
using testing::client_sizes;
using testing::expect_exact_cover;
using testing::mnist_like_labels;
using testing::size_ratio;

TEST(QuantitySkewPartitionerTest, SmallAlphaGivesVeryUnequalSizesLargeAlphaNearEqual) {
  const auto labels = mnist_like_labels();
  auto skewed = QuantitySkewPartitioner(QuantitySkewOptions{0.1, 10}).partition(labels, 10, 100, 2);
  auto even = QuantitySkewPartitioner(QuantitySkewOptions{1000.0, 10}).partition(labels, 10, 100, 2);
  ASSERT_TRUE(skewed.ok()) << skewed.status();
  ASSERT_TRUE(even.ok()) << even.status();
  expect_exact_cover(*skewed, labels.size());
  expect_exact_cover(*even, labels.size());
  // Dir(0.1) over 100 clients puts most of the mass on a handful: the largest holds thousands,
  // many hold just the minimum of 10.
  EXPECT_GT(size_ratio(*skewed), 50.0);
  // Dir(1000): each share is 1/100 within a few percent, so sizes sit near 600.
  EXPECT_LT(size_ratio(*even), 1.4);
}

TEST(QuantitySkewPartitionerTest, LabelsWithinEachClientFollowTheGlobalMix) {
  const auto labels = mnist_like_labels();
  auto p = QuantitySkewPartitioner(QuantitySkewOptions{0.5, 10}).partition(labels, 10, 10, 6);
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<double> global(10, 0);
  for (int64_t label : labels) global[static_cast<size_t>(label)] += 1.0 / static_cast<double>(labels.size());
  const auto counts = p->class_counts(labels, 10);
  int checked = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    const double size = static_cast<double>(p->client_indices[k].size());
    if (size < 1000) continue;  // too few samples for shares to settle
    ++checked;
    // A class share over >= 1000 IID samples has sd <= 0.0095: 0.05 is over 5 sd.
    for (size_t c = 0; c < 10; ++c)
      EXPECT_NEAR(static_cast<double>(counts[k][c]) / size, global[c], 0.05) << "client " << k << " class " << c;
  }
  EXPECT_GE(checked, 2);
}

TEST(QuantitySkewPartitionerTest, EveryClientGetsTheMinimumFirst) {
  const auto labels = mnist_like_labels();
  auto p = QuantitySkewPartitioner(QuantitySkewOptions{0.01, 100}).partition(labels, 10, 50, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  const auto sizes = client_sizes(*p);
  EXPECT_EQ(*std::min_element(sizes.begin(), sizes.end()), 100u);  // tiny alpha: most stay at it
  // min_partition_size 0 still gives every client a sample.
  auto zero = QuantitySkewPartitioner(QuantitySkewOptions{0.01, 0}).partition(labels, 10, 1000, 1);
  ASSERT_TRUE(zero.ok()) << zero.status();
  expect_exact_cover(*zero, labels.size());
}

TEST(QuantitySkewPartitionerTest, MinimumThatExactlyFitsIsAnEvenSplit) {
  const auto labels = balanced_labels(100);  // 1000 samples
  auto p = QuantitySkewPartitioner(QuantitySkewOptions{0.5, 100}).partition(labels, 10, 10, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  for (size_t s : client_sizes(*p)) EXPECT_EQ(s, 100u);
}

TEST(QuantitySkewPartitionerTest, ImpossibleMinimumIsInvalidArgument) {
  const auto labels = balanced_labels(100);  // 1000 samples; 11 x 100 = 1100
  auto p = QuantitySkewPartitioner(QuantitySkewOptions{0.5, 100}).partition(labels, 10, 11, 1);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = p.status().message();
  EXPECT_NE(m.find("11 clients of at least min_partition_size=100"), std::string::npos) << m;
  EXPECT_NE(m.find("1000 samples"), std::string::npos) << m;
}

TEST(QuantitySkewPartitionerTest, OutOfRangeOptionsAreInvalidArgument) {
  const auto labels = balanced_labels(10);
  for (QuantitySkewOptions bad : {QuantitySkewOptions{0.0, 1}, QuantitySkewOptions{-1.0, 1},
                                  QuantitySkewOptions{std::numeric_limits<double>::infinity(), 1},
                                  QuantitySkewOptions{std::nan(""), 1}, QuantitySkewOptions{0.5, -1}}) {
    EXPECT_FALSE(check_quantity_skew_options(bad).ok());
    auto p = QuantitySkewPartitioner(bad).partition(labels, 10, 2, 1);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(check_quantity_skew_options(QuantitySkewOptions{}).ok());
}

}  // namespace
}  // namespace flotilla
