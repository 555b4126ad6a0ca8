#include "partitioners/shards.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "partition_test_util.h"

namespace flotilla {
namespace {

using testing::balanced_labels;
using testing::classes_per_client;
using testing::client_sizes;
using testing::expect_exact_cover;
using testing::mnist_like_labels;

// position[i] = where sample i lands when the indices are sorted by label, ties by index.
std::vector<size_t> label_sorted_positions(const std::vector<int64_t>& labels) {
  std::vector<int64_t> order(labels.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return labels[static_cast<size_t>(a)] < labels[static_cast<size_t>(b)];
  });
  std::vector<size_t> position(labels.size());
  for (size_t p = 0; p < order.size(); ++p) position[static_cast<size_t>(order[p])] = p;
  return position;
}

TEST(ShardsPartitionerTest, McMahanSettingIs200ShardsOf300) {
  // FedAvg paper: 60,000 MNIST samples, 100 clients, 2 shards each -> 200 shards of 300.
  const auto labels = mnist_like_labels();
  auto p = ShardsPartitioner(ShardsOptions{2}).partition(labels, 10, 100, 7);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  const auto position = label_sorted_positions(labels);
  std::set<size_t> all_shards;
  for (size_t c = 0; c < p->client_indices.size(); ++c) {
    const auto& client = p->client_indices[c];
    EXPECT_EQ(client.size(), 600u) << "client " << c;
    // Each client's samples are exactly two aligned blocks of 300 in label-sorted order.
    std::map<size_t, int> per_shard;
    for (int64_t i : client) ++per_shard[position[static_cast<size_t>(i)] / 300];
    ASSERT_EQ(per_shard.size(), 2u) << "client " << c;
    for (const auto& [shard, count] : per_shard) {
      EXPECT_EQ(count, 300) << "client " << c << " shard " << shard;
      EXPECT_TRUE(all_shards.insert(shard).second) << "shard " << shard << " dealt twice";
    }
  }
  EXPECT_EQ(all_shards.size(), 200u);
  for (int classes : classes_per_client(*p, labels, 10)) EXPECT_LE(classes, 4);
}

TEST(ShardsPartitionerTest, ClientsSeeAtMostTwoClassesPerShard) {
  // MNIST classes (>= 5421 samples) are larger than any shard here, so a shard spans <= 2 classes.
  const auto labels = mnist_like_labels();
  for (int64_t per_client : {1, 2, 3, 5}) {
    auto p = ShardsPartitioner(ShardsOptions{per_client}).partition(labels, 10, 50, 1);
    ASSERT_TRUE(p.ok()) << p.status();
    expect_exact_cover(*p, labels.size());
    int most = 0;
    for (int classes : classes_per_client(*p, labels, 10)) {
      EXPECT_LE(classes, 2 * per_client);
      most = std::max(most, classes);
    }
    // And the split is far from IID: with one shard a client sees one or two classes.
    if (per_client == 1) {
      EXPECT_LE(most, 2);
    }
  }
}

TEST(ShardsPartitionerTest, UnevenShardSizesDifferByAtMostOne) {
  // 1010 samples into 7 x 3 = 21 shards: 2 shards of 49 and 19 of 48, so a client has 144..146.
  const auto labels = balanced_labels(101);
  auto p = ShardsPartitioner(ShardsOptions{3}).partition(labels, 10, 7, 4);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  for (size_t s : client_sizes(*p)) {
    EXPECT_GE(s, 144u);
    EXPECT_LE(s, 146u);
  }
}

TEST(ShardsPartitionerTest, ShardsAreCutFromTheStableLabelSort) {
  // Sorted by label, ties by index: 1 3 5 | 0 2 4, cut into 3 shards of 2: {1,3} {5,0} {2,4}.
  const std::vector<int64_t> labels = {1, 0, 1, 0, 1, 0};
  auto p = ShardsPartitioner(ShardsOptions{1}).partition(labels, 2, 3, 9);
  ASSERT_TRUE(p.ok()) << p.status();
  std::set<std::vector<int64_t>> parts(p->client_indices.begin(), p->client_indices.end());
  EXPECT_EQ(parts, (std::set<std::vector<int64_t>>{{1, 3}, {0, 5}, {2, 4}}));
}

TEST(ShardsPartitionerTest, MoreShardsThanSamplesIsInvalidArgument) {
  const auto labels = balanced_labels(2);  // 20 samples; 10 clients x 3 shards = 30
  auto p = ShardsPartitioner(ShardsOptions{3}).partition(labels, 10, 10, 1);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  const std::string& m = p.status().message();
  EXPECT_NE(m.find("shards_per_client=3 x 10 clients"), std::string::npos) << m;
  EXPECT_NE(m.find("20 samples"), std::string::npos) << m;
  // Exactly one sample per shard is still a valid split.
  EXPECT_TRUE(ShardsPartitioner(ShardsOptions{2}).partition(labels, 10, 10, 1).ok());
}

TEST(ShardsPartitionerTest, OutOfRangeOptionsAreInvalidArgument) {
  const auto labels = balanced_labels(10);
  for (int64_t bad : {0, -1}) {
    EXPECT_FALSE(check_shards_options(ShardsOptions{bad}).ok());
    auto p = ShardsPartitioner(ShardsOptions{bad}).partition(labels, 10, 2, 1);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find("shards_per_client"), std::string::npos) << p.status();
  }
  EXPECT_TRUE(check_shards_options(ShardsOptions{}).ok());
}

}  // namespace
}  // namespace flotilla
