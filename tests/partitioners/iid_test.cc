#include "partitioners/iid.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "partition_test_util.h"

namespace flotilla {
namespace {

using testing::balanced_labels;
using testing::client_sizes;
using testing::mean_max_class_share;

TEST(IidPartitionerTest, SizesDifferByAtMostOne) {
  const auto labels = balanced_labels(101);  // 1010 samples over 7 clients: 144 or 145 each
  auto p = IidPartitioner().partition(labels, 10, 7, 42);
  ASSERT_TRUE(p.ok()) << p.status();
  const auto sizes = client_sizes(*p);
  EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()), 1u);
  size_t total = 0;
  for (size_t s : sizes) total += s;
  EXPECT_EQ(total, labels.size());
}

TEST(IidPartitionerTest, OneSamplePerClientIsAllowed) {
  const auto labels = balanced_labels(1, 5);
  auto p = IidPartitioner().partition(labels, 5, 5, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  for (size_t s : client_sizes(*p)) EXPECT_EQ(s, 1u);
}

TEST(IidPartitionerTest, ClassSharesAreNearUniform) {
  const auto labels = balanced_labels(200);
  auto p = IidPartitioner().partition(labels, 10, 10, 8);
  ASSERT_TRUE(p.ok()) << p.status();
  // 200 samples per client: the largest of 10 class shares sits near 0.1 + a few standard errors.
  EXPECT_LT(mean_max_class_share(*p, labels, 10), 0.2);
}

}  // namespace
}  // namespace flotilla
