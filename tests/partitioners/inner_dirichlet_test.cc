#include "partitioners/inner_dirichlet.h"

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
using testing::mean_max_class_share;
using testing::mnist_like_labels;

TEST(InnerDirichletPartitionerTest, SizesDifferByAtMostOne) {
  const auto labels = balanced_labels(101);  // 1010 samples over 7 clients: 144 or 145 each
  for (double alpha : {0.01, 1.0, 1000.0}) {
    auto p = InnerDirichletPartitioner(InnerDirichletOptions{alpha}).partition(labels, 10, 7, 3);
    ASSERT_TRUE(p.ok()) << p.status();
    expect_exact_cover(*p, labels.size());
    for (size_t s : client_sizes(*p)) {
      EXPECT_GE(s, 144u) << "alpha " << alpha;
      EXPECT_LE(s, 145u) << "alpha " << alpha;
    }
  }
}

TEST(InnerDirichletPartitionerTest, SmallAlphaSkewsLargeAlphaIsNearIid) {
  const auto labels = balanced_labels(1000);
  auto skewed = InnerDirichletPartitioner(InnerDirichletOptions{0.1}).partition(labels, 10, 20, 3);
  auto even = InnerDirichletPartitioner(InnerDirichletOptions{1000.0}).partition(labels, 10, 20, 3);
  ASSERT_TRUE(skewed.ok()) << skewed.status();
  ASSERT_TRUE(even.ok()) << even.status();
  // 10 balanced classes: an even split gives each client a largest share near 0.1.
  EXPECT_GT(mean_max_class_share(*skewed, labels, 10), 0.5);
  EXPECT_LT(mean_max_class_share(*even, labels, 10), 0.2);
}

TEST(InnerDirichletPartitionerTest, ProportionsAreCentredOnTheClassPrior) {
  // 90% class 0, 10% class 1, tiny alpha: Dir(alpha * prior) is nearly one-hot on class c with
  // probability prior_c, so about 10% of clients (Binomial(1000, 0.1): 100 +- 9.5) are made of
  // class 1, which is just what class 1 can fill. A symmetric Dir(alpha) would send half the
  // clients after class 1, run it dry within a few steps each, and leave no client mostly class 1.
  std::vector<int64_t> labels;
  for (int i = 0; i < 20000; ++i) labels.push_back(i % 10 == 0 ? 1 : 0);
  auto p = InnerDirichletPartitioner(InnerDirichletOptions{0.01}).partition(labels, 2, 1000, 4);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  int mostly_class_1 = 0;
  for (const auto& client : p->class_counts(labels, 2)) mostly_class_1 += client[1] > client[0] ? 1 : 0;
  EXPECT_GE(mostly_class_1, 60);
  EXPECT_LE(mostly_class_1, 140);
}

TEST(InnerDirichletPartitionerTest, TinyAlphaWithManyClientsFinishes) {
  // Each client wants one class and classes run out early: the renormalisation and the fallback
  // to the samples left must still place every sample, in exactly N steps.
  const auto labels = mnist_like_labels();
  auto p = InnerDirichletPartitioner(InnerDirichletOptions{0.001}).partition(labels, 10, 1000, 5);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  for (size_t s : client_sizes(*p)) EXPECT_EQ(s, 60u);
  EXPECT_GT(mean_max_class_share(*p, labels, 10), 0.8);
}

TEST(InnerDirichletPartitionerTest, OutOfRangeOptionsAreInvalidArgument) {
  const auto labels = balanced_labels(10);
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    EXPECT_FALSE(check_inner_dirichlet_options(InnerDirichletOptions{bad}).ok());
    auto p = InnerDirichletPartitioner(InnerDirichletOptions{bad}).partition(labels, 10, 2, 1);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find("alpha"), std::string::npos) << p.status();
  }
  EXPECT_TRUE(check_inner_dirichlet_options(InnerDirichletOptions{}).ok());
}

}  // namespace
}  // namespace flotilla
