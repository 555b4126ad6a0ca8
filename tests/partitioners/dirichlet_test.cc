#include "partitioners/dirichlet.h"

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

TEST(DirichletPartitionerTest, MinimumSizeRespected) {
  const auto labels = balanced_labels(500);
  for (double alpha : {0.1, 0.5, 5.0}) {
    auto p = DirichletPartitioner(DirichletOptions{alpha, 20, 100, true}).partition(labels, 10, 10, 1);
    ASSERT_TRUE(p.ok()) << p.status();
    expect_exact_cover(*p, labels.size());
    for (size_t s : client_sizes(*p)) EXPECT_GE(s, 20u) << "alpha " << alpha;
  }
}

TEST(DirichletPartitionerTest, SmallAlphaSkewsLargeAlphaDoesNot) {
  const auto labels = balanced_labels(1000);
  auto skewed = DirichletPartitioner(DirichletOptions{0.1, 10, 100, true}).partition(labels, 10, 20, 3);
  auto even = DirichletPartitioner(DirichletOptions{1000.0, 10, 100, true}).partition(labels, 10, 20, 3);
  ASSERT_TRUE(skewed.ok()) << skewed.status();
  ASSERT_TRUE(even.ok()) << even.status();
  // 10 balanced classes: an even split gives each client a largest share near 0.1.
  EXPECT_GT(mean_max_class_share(*skewed, labels, 10), 0.5);
  EXPECT_LT(mean_max_class_share(*even, labels, 10), 0.2);
}

TEST(DirichletPartitionerTest, BalanceKeepsClientSizesCloser) {
  const auto labels = balanced_labels(1000);
  // Mean over seeds of the largest client: with the trick a client stops receiving classes once
  // it holds N / clients = 500 samples, so it overshoots by at most its last class's share;
  // without it, one client easily collects most of several classes.
  auto mean_largest = [&](bool balance) {
    double sum = 0;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      auto p = DirichletPartitioner(DirichletOptions{0.3, 1, 100, balance}).partition(labels, 10, 20, seed);
      EXPECT_TRUE(p.ok()) << p.status();
      const auto sizes = client_sizes(*p);
      sum += static_cast<double>(*std::max_element(sizes.begin(), sizes.end()));
    }
    return sum / 10;
  };
  EXPECT_LT(mean_largest(true), 0.9 * mean_largest(false));
}

TEST(DirichletPartitionerTest, TooManyClientsForTheMinimumFailsBeforeDrawing) {
  const auto labels = balanced_labels(100);  // 1000 samples; 200 clients x 10 would need 2000
  auto p = DirichletPartitioner(DirichletOptions{0.5, 10, 100, true}).partition(labels, 10, 200, 1);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("--min-partition-size"), std::string::npos) << p.status();
}

TEST(DirichletPartitionerTest, UnreachableMinimumStopsAfterMaxRetriesWithAClearError) {
  // 1000 samples, 20 clients, minimum 50: only an exactly even split passes, which Dir(0.05)
  // never draws. The error must come after exactly max_retries draws, and say what to change.
  const auto labels = balanced_labels(100);
  auto p = DirichletPartitioner(DirichletOptions{0.05, 50, 7, true}).partition(labels, 10, 20, 1);
  ASSERT_FALSE(p.ok());
  const std::string& m = p.status().message();
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.find("alpha=0.05"), std::string::npos) << m;
  EXPECT_NE(m.find("20 clients"), std::string::npos) << m;
  EXPECT_NE(m.find("minimum of 50"), std::string::npos) << m;
  EXPECT_NE(m.find("each of 7 draws"), std::string::npos) << m;
  EXPECT_NE(m.find("smallest client had"), std::string::npos) << m;
  EXPECT_NE(m.find("lower --min-partition-size or raise --alpha"), std::string::npos) << m;
}

TEST(DirichletPartitionerTest, TinyAlphaWithManyClientsEndsWithASplitOrAClearError) {
  // Where other frameworks' re-draw loops hang: MNIST, 1000 clients, alpha 0.01, default options.
  // Dir(0.01) gives each class to one client or two, so nearly every client is empty in every
  // draw; the retries are bounded, and the answer must be a valid split or an error that says
  // what to change. (How long it takes is measured, never asserted on.)
  const auto labels = mnist_like_labels();
  DirichletOptions options;
  options.alpha = 0.01;
  auto p = DirichletPartitioner(options).partition(labels, 10, 1000, 42);
  if (p.ok()) {
    expect_exact_cover(*p, labels.size());
    for (size_t s : client_sizes(*p)) EXPECT_GE(s, 10u);
  } else {
    const std::string& m = p.status().message();
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(m.find("1000 clients"), std::string::npos) << m;
    EXPECT_NE(m.find("each of 100 draws"), std::string::npos) << m;
    EXPECT_NE(m.find("lower --min-partition-size or raise --alpha"), std::string::npos) << m;
  }
}

TEST(DirichletPartitionerTest, TinyAlphaStillCoversEverySample) {
  // Dir(0.001) puts essentially all of a class on one client; the draw must stay a valid split.
  const auto labels = balanced_labels(50);
  auto p = DirichletPartitioner(DirichletOptions{0.001, 1, 1000, false}).partition(labels, 10, 5, 2);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  const auto counts = p->class_counts(labels, 10);
  for (size_t c = 0; c < 10; ++c) {
    int64_t largest = 0;
    for (const auto& client : counts) largest = std::max(largest, client[c]);
    EXPECT_GE(largest, 49) << "class " << c << " is spread over several clients";
  }
}

TEST(DirichletPartitionerTest, OutOfRangeOptionsAreInvalidArgument) {
  const auto labels = balanced_labels(10);
  for (DirichletOptions bad : {DirichletOptions{0.0, 1, 10, true}, DirichletOptions{-1.0, 1, 10, true},
                               DirichletOptions{std::numeric_limits<double>::infinity(), 1, 10, true},
                               DirichletOptions{std::nan(""), 1, 10, true}, DirichletOptions{0.5, -1, 10, true},
                               DirichletOptions{0.5, 1, 0, true}}) {
    EXPECT_FALSE(check_dirichlet_options(bad).ok());
    auto p = DirichletPartitioner(bad).partition(labels, 10, 2, 1);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(check_dirichlet_options(DirichletOptions{}).ok());
}

}  // namespace
}  // namespace flotilla
