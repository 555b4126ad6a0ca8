#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "partitioners/dirichlet.h"
#include "partitioners/iid.h"
#include "partitioners/partitioner.h"

namespace flotilla {
namespace {

// 10 balanced classes, `per_class` samples each, interleaved.
std::vector<int64_t> balanced_labels(int per_class, int classes = 10) {
  std::vector<int64_t> labels;
  for (int i = 0; i < per_class * classes; ++i) labels.push_back(i % classes);
  return labels;
}

void expect_exact_cover(const Partition& p, size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& client : p.client_indices) {
    EXPECT_FALSE(client.empty());
    EXPECT_TRUE(std::is_sorted(client.begin(), client.end()));
    for (int64_t i : client) {
      ASSERT_GE(i, 0);
      ASSERT_LT(static_cast<size_t>(i), n);
      ++seen[static_cast<size_t>(i)];
    }
  }
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "sample " << i;
}

// Mean over clients of the largest class share: 0.1 for a perfectly IID split of 10 classes.
double mean_max_class_share(const Partition& p, const std::vector<int64_t>& labels) {
  const auto counts = p.class_counts(labels, 10);
  double sum = 0;
  for (const auto& c : counts) {
    const double total = static_cast<double>(std::accumulate(c.begin(), c.end(), int64_t{0}));
    sum += static_cast<double>(*std::max_element(c.begin(), c.end())) / total;
  }
  return sum / static_cast<double>(counts.size());
}

TEST(IidPartitionerTest, EqualSizesExactCoverDeterministic) {
  const auto labels = balanced_labels(101);
  IidPartitioner iid;
  auto p = iid.partition(labels, 10, 7, 42);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  for (const auto& c : p->client_indices) EXPECT_NEAR(static_cast<double>(c.size()), 1010.0 / 7, 1.0);
  EXPECT_EQ(p->client_indices, iid.partition(labels, 10, 7, 42)->client_indices);
  EXPECT_NE(p->client_indices, iid.partition(labels, 10, 7, 43)->client_indices);
  EXPECT_LT(mean_max_class_share(*p, labels), 0.2);
}

TEST(DirichletPartitionerTest, ExactCoverMinimumSizeAndDeterminism) {
  const auto labels = balanced_labels(500);
  DirichletPartitioner d(DirichletOptions{0.5, 20, 100, true});
  auto p = d.partition(labels, 10, 10, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  for (const auto& c : p->client_indices) EXPECT_GE(c.size(), 20u);
  EXPECT_EQ(p->client_indices, d.partition(labels, 10, 10, 1)->client_indices);
  EXPECT_NE(p->client_indices, d.partition(labels, 10, 10, 2)->client_indices);
}

TEST(DirichletPartitionerTest, SmallAlphaSkewsLargeAlphaDoesNot) {
  const auto labels = balanced_labels(1000);
  auto skewed = DirichletPartitioner(DirichletOptions{0.1, 10, 100, true}).partition(labels, 10, 20, 3);
  auto even = DirichletPartitioner(DirichletOptions{1000.0, 10, 100, true}).partition(labels, 10, 20, 3);
  ASSERT_TRUE(skewed.ok() && even.ok());
  EXPECT_GT(mean_max_class_share(*skewed, labels), 0.5);
  EXPECT_LT(mean_max_class_share(*even, labels), 0.2);
}

TEST(DirichletPartitionerTest, ImpossibleMinimumFailsClearlyAndFast) {
  const auto labels = balanced_labels(100);  // 1000 samples
  auto too_many = DirichletPartitioner(DirichletOptions{0.5, 10, 100, true}).partition(labels, 10, 200, 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("--min-partition-size"), std::string::npos);

  // Tiny alpha with 1000 clients over 60,000 samples: bounded retries, then a clear error.
  const auto big = balanced_labels(6000);
  auto p = DirichletPartitioner(DirichletOptions{0.01, 30, 20, true}).partition(big, 10, 1000, 1);
  if (!p.ok()) {
    EXPECT_NE(p.status().message().find("in each of 20 draws"), std::string::npos) << p.status();
    EXPECT_NE(p.status().message().find("raise --alpha"), std::string::npos);
  } else {
    expect_exact_cover(*p, big.size());
  }
}

TEST(PartitionerRegistryTest, BuiltinsAndOptionErrors) {
  PartitionerRegistry registry("partitioner");
  ASSERT_TRUE(register_builtin_partitioners(registry).ok());
  EXPECT_TRUE(registry.create("iid").ok());
  EXPECT_TRUE(registry.create("dirichlet", Options{{"alpha", "0.3"}}).ok());
  EXPECT_FALSE(registry.create("dirichlet", Options{{"alpha", "0"}}).ok());
  EXPECT_FALSE(registry.create("dirichlet", Options{{"alpha", "x"}}).ok());
  EXPECT_FALSE(registry.create("dirichlet", Options{{"beta", "1"}}).ok());
  EXPECT_FALSE(registry.create("nope").ok());
}

TEST(PartitionerArgumentsTest, RejectsBadInput) {
  IidPartitioner iid;
  std::vector<int64_t> labels{0, 1, 2};
  EXPECT_FALSE(iid.partition(labels, 10, 0, 1).ok());
  EXPECT_FALSE(iid.partition(labels, 10, 4, 1).ok());
  std::vector<int64_t> bad{0, 11};
  auto r = iid.partition(bad, 10, 1, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("label 11"), std::string::npos);
}

}  // namespace
}  // namespace flotilla
