#include "partitioners/partition_stats.h"

#include <gtest/gtest.h>

#include <cmath>

#include "partition_test_util.h"
#include "partitioners/dirichlet.h"
#include "partitioners/iid.h"

namespace flotilla {
namespace {

using testing::balanced_labels;

TEST(LabelDistributionEmdTest, SameProportionsAreZeroAndDisjointApproachTwo) {
  const std::vector<int64_t> half = {2, 4}, global = {1, 2};
  EXPECT_DOUBLE_EQ(label_distribution_emd(half, global), 0.0);
  // Only class 0, which is 1 in 1000 overall: |1 - 0.001| + |0 - 0.999|.
  const std::vector<int64_t> only_rare = {5, 0}, mostly_other = {1, 999};
  EXPECT_NEAR(label_distribution_emd(only_rare, mostly_other), 1.998, 1e-12);
  // Disjoint supports reach the bound exactly.
  const std::vector<int64_t> a = {3, 0}, b = {0, 7};
  EXPECT_DOUBLE_EQ(label_distribution_emd(a, b), 2.0);
}

TEST(LabelDistributionEmdTest, NoSamplesHaveNoDistribution) {
  const std::vector<int64_t> empty = {0, 0}, global = {1, 2};
  EXPECT_TRUE(std::isnan(label_distribution_emd(empty, global)));
  EXPECT_TRUE(std::isnan(label_distribution_emd(global, empty)));
}

// Worked by hand: global counts (6, 4) so p = (0.6, 0.4).
// Client 0 holds (6, 2): p0 = (0.75, 0.25), EMD = 0.15 + 0.15 = 0.3.
// Client 1 holds (0, 2): p1 = (0, 1),       EMD = 0.6 + 0.6 = 1.2.
TEST(PartitionStatsTest, TwoClientsTwoClassesByHand) {
  const PartitionStats stats = compute_partition_stats({{6, 2}, {0, 2}});
  ASSERT_EQ(stats.clients.size(), 2u);
  EXPECT_EQ(stats.global_class_counts, (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(stats.clients[0].class_counts, (std::vector<int64_t>{6, 2}));
  EXPECT_EQ(stats.clients[0].total, 8);
  EXPECT_EQ(stats.clients[1].total, 2);
  EXPECT_EQ(stats.clients[0].num_classes_held, 2);
  EXPECT_EQ(stats.clients[1].num_classes_held, 1);
  EXPECT_NEAR(stats.clients[0].emd, 0.3, 1e-12);
  EXPECT_NEAR(stats.clients[1].emd, 1.2, 1e-12);

  const PartitionSummary& s = stats.summary;
  EXPECT_EQ(s.num_clients, 2);
  EXPECT_EQ(s.num_classes, 2);
  EXPECT_EQ(s.total_samples, 10);
  EXPECT_EQ(s.samples_min, 2);
  EXPECT_DOUBLE_EQ(s.samples_median, 5.0);  // even count: mean of the middle two
  EXPECT_EQ(s.samples_max, 8);
  EXPECT_DOUBLE_EQ(s.samples_mean, 5.0);
  EXPECT_DOUBLE_EQ(s.samples_std, 3.0);  // population std: sqrt((9 + 9) / 2)
  EXPECT_EQ(s.classes_min, 1);
  EXPECT_DOUBLE_EQ(s.classes_median, 1.5);
  EXPECT_EQ(s.classes_max, 2);
  EXPECT_DOUBLE_EQ(s.classes_mean, 1.5);
  EXPECT_NEAR(s.emd_min, 0.3, 1e-12);
  EXPECT_NEAR(s.emd_mean, 0.75, 1e-12);
  EXPECT_NEAR(s.emd_max, 1.2, 1e-12);
}

// Global (3, 3, 3): p = 1/3 each. Client 0 (3, 0, 0): 2/3 + 1/3 + 1/3 = 4/3. Client 1 holds
// nothing. Client 2 (0, 3, 3): 1/3 + 1/6 + 1/6 = 2/3.
TEST(PartitionStatsTest, OddClientCountAndAnEmptyClient) {
  const PartitionStats stats = compute_partition_stats({{3, 0, 0}, {0, 0, 0}, {0, 3, 3}});
  EXPECT_NEAR(stats.clients[0].emd, 4.0 / 3, 1e-12);
  EXPECT_TRUE(std::isnan(stats.clients[1].emd));
  EXPECT_NEAR(stats.clients[2].emd, 2.0 / 3, 1e-12);
  const PartitionSummary& s = stats.summary;
  EXPECT_EQ(s.samples_min, 0);
  EXPECT_DOUBLE_EQ(s.samples_median, 3.0);  // odd count: the middle value of (0, 3, 6)
  EXPECT_EQ(s.samples_max, 6);
  EXPECT_DOUBLE_EQ(s.samples_std, std::sqrt(6.0));
  EXPECT_DOUBLE_EQ(s.classes_median, 1.0);
  EXPECT_EQ(s.classes_min, 0);
  // The empty client has no distribution: it is left out of the EMD summary, not counted as 0.
  EXPECT_NEAR(s.emd_min, 2.0 / 3, 1e-12);
  EXPECT_NEAR(s.emd_mean, 1.0, 1e-12);
  EXPECT_NEAR(s.emd_max, 4.0 / 3, 1e-12);
}

TEST(PartitionStatsTest, NoClientsGiveZerosAndNoEmd) {
  const PartitionStats stats = compute_partition_stats({});
  EXPECT_TRUE(stats.clients.empty());
  EXPECT_EQ(stats.summary.num_clients, 0);
  EXPECT_EQ(stats.summary.num_classes, 0);
  EXPECT_EQ(stats.summary.total_samples, 0);
  EXPECT_DOUBLE_EQ(stats.summary.samples_mean, 0.0);
  EXPECT_TRUE(std::isnan(stats.summary.emd_mean));
}

TEST(PartitionStatsTest, RaggedCountsAreAProgrammingError) {
  EXPECT_DEATH(compute_partition_stats({{1, 2}, {3}}), "client 1 has 1 classes");
  EXPECT_DEATH(compute_partition_stats({{1, -2}}), "count -2");
}

// The numbers mean what they should on real partitions: an IID split sits close to the global
// distribution, Dirichlet(0.1) far from it.
TEST(PartitionStatsTest, DirichletIsFurtherFromGlobalThanIid) {
  const auto labels = balanced_labels(100);
  auto iid = IidPartitioner().partition(labels, 10, 10, 3);
  auto skewed = DirichletPartitioner({.alpha = 0.1, .min_partition_size = 1}).partition(labels, 10, 10, 3);
  ASSERT_TRUE(iid.ok()) << iid.status();
  ASSERT_TRUE(skewed.ok()) << skewed.status();
  const PartitionStats a = compute_partition_stats(iid->class_counts(labels, 10));
  const PartitionStats b = compute_partition_stats(skewed->class_counts(labels, 10));
  EXPECT_EQ(a.summary.total_samples, 1000);
  EXPECT_EQ(b.summary.total_samples, 1000);
  EXPECT_EQ(a.summary.classes_min, 10);
  EXPECT_LT(a.summary.emd_max, 0.5);
  EXPECT_GT(b.summary.emd_mean, 1.0);
  EXPECT_LT(b.summary.classes_mean, 6.0);
}

}  // namespace
}  // namespace flotilla
