#include "partitioners/label_split.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "partition_test_util.h"

namespace flotilla {
namespace {

using testing::balanced_labels;
using testing::classes_per_client;
using testing::expect_disjoint;
using testing::expect_exact_cover;
using testing::mnist_like_labels;

// How class c is shared: how many clients hold some of it, and the smallest and largest share.
struct ClassShares {
  int64_t holders = 0;
  int64_t smallest = 0;
  int64_t largest = 0;
};

ClassShares class_shares(const std::vector<std::vector<int64_t>>& counts, size_t c) {
  ClassShares shares;
  for (const auto& client : counts) {
    if (client[c] == 0) continue;
    shares.smallest = shares.holders == 0 ? client[c] : std::min(shares.smallest, client[c]);
    shares.largest = std::max(shares.largest, client[c]);
    ++shares.holders;
  }
  return shares;
}

TEST(LabelSplitPartitionerTest, EveryClientHoldsExactlyKClasses) {
  const auto labels = mnist_like_labels();
  for (int64_t k : {1, 2, 3, 5, 10}) {
    auto p = LabelSplitPartitioner(LabelSplitOptions{k}).partition(labels, 10, 100, 3);
    ASSERT_TRUE(p.ok()) << p.status();
    expect_exact_cover(*p, labels.size());
    for (int classes : classes_per_client(*p, labels, 10)) EXPECT_EQ(classes, k);
  }
}

TEST(LabelSplitPartitionerTest, HoldersAreEvenAndShareTheirClassEvenly) {
  // 7 clients x 3 classes = 21 slots over 10 classes: each class has 2 or 3 holders, and each
  // holder gets floor or ceil of the class size over its holders.
  const auto labels = balanced_labels(100);
  auto p = LabelSplitPartitioner(LabelSplitOptions{3}).partition(labels, 10, 7, 11);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  const auto counts = p->class_counts(labels, 10);
  for (size_t c = 0; c < 10; ++c) {
    const ClassShares shares = class_shares(counts, c);
    EXPECT_TRUE(shares.holders == 2 || shares.holders == 3) << "class " << c << " has " << shares.holders << " holders";
    EXPECT_EQ(shares.smallest, 100 / shares.holders) << "class " << c;
    EXPECT_LE(shares.largest - shares.smallest, 1) << "class " << c;
  }
}

TEST(LabelSplitPartitionerTest, TooFewSlotsLeaveOutWholeUnheldClassesOnly) {
  // 3 clients x 2 classes cover 6 of 10 classes: those 6 are used whole, the other 4 not at all.
  const auto labels = balanced_labels(50);
  auto p = LabelSplitPartitioner(LabelSplitOptions{2}).partition(labels, 10, 3, 5);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_disjoint(*p, labels.size());
  for (int classes : classes_per_client(*p, labels, 10)) EXPECT_EQ(classes, 2);
  std::vector<int64_t> per_class(10, 0);
  for (const auto& client : p->class_counts(labels, 10))
    for (size_t c = 0; c < 10; ++c) per_class[c] += client[c];
  EXPECT_EQ(std::count(per_class.begin(), per_class.end(), 50), 6);
  EXPECT_EQ(std::count(per_class.begin(), per_class.end(), 0), 4);
}

TEST(LabelSplitPartitionerTest, OnlyClassesWithSamplesAreDealt) {
  // Classes 1, 3 and 4 of 5 are empty: a client given one would hold fewer than K classes.
  std::vector<int64_t> labels;
  for (int i = 0; i < 30; ++i) labels.push_back(i % 2 == 0 ? 0 : 2);
  auto p = LabelSplitPartitioner(LabelSplitOptions{2}).partition(labels, 5, 4, 1);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_exact_cover(*p, labels.size());
  for (int classes : classes_per_client(*p, labels, 5)) EXPECT_EQ(classes, 2);

  auto too_many = LabelSplitPartitioner(LabelSplitOptions{3}).partition(labels, 5, 4, 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("only 2 of the 5 classes have samples"), std::string::npos)
      << too_many.status();
}

TEST(LabelSplitPartitionerTest, ImpossibleRequestsAreInvalidArgument) {
  const auto labels = balanced_labels(10);
  auto above = LabelSplitPartitioner(LabelSplitOptions{11}).partition(labels, 10, 2, 1);
  ASSERT_FALSE(above.ok());
  EXPECT_EQ(above.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(above.status().message().find("labels_per_client=11 must be in [1, 10]"), std::string::npos)
      << above.status();

  for (int64_t bad : {0, -2}) {
    EXPECT_FALSE(check_label_split_options(LabelSplitOptions{bad}).ok());
    auto p = LabelSplitPartitioner(LabelSplitOptions{bad}).partition(labels, 10, 2, 1);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find("labels_per_client"), std::string::npos) << p.status();
  }

  // Class 0 has 1 sample, but with 2 classes each 2 clients both hold it.
  const std::vector<int64_t> rare = {0, 1, 1, 1, 1, 1};
  auto thin = LabelSplitPartitioner(LabelSplitOptions{2}).partition(rare, 2, 2, 1);
  ASSERT_FALSE(thin.ok());
  EXPECT_EQ(thin.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(thin.status().message().find("class 0 has 1 samples"), std::string::npos) << thin.status();
  EXPECT_NE(thin.status().message().find("2 holders"), std::string::npos) << thin.status();
}

// NIID-Bench's draw: client k holds class k mod 10 and one random other; each class is cut into
// near-equal parts over however many clients drew it, so holders and sizes vary.
TEST(LabelSplitPartitionerTest, NiidBenchAssignmentGivesClientKClassKThenRandomOthers) {
  const auto labels = balanced_labels(101);
  const LabelSplitOptions niid{2, LabelAssignment::kNiidBench};
  bool uneven_holders = false;
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    auto p = LabelSplitPartitioner(niid).partition(labels, 10, 10, seed);
    ASSERT_TRUE(p.ok()) << p.status();
    expect_exact_cover(*p, labels.size());  // class k is always held, by client k at least
    const auto counts = p->class_counts(labels, 10);
    for (size_t client = 0; client < 10; ++client) EXPECT_GT(counts[client][client], 0) << "client " << client;
    for (int classes : classes_per_client(*p, labels, 10)) EXPECT_EQ(classes, 2);
    for (size_t c = 0; c < 10; ++c) {
      const ClassShares shares = class_shares(counts, c);
      EXPECT_EQ(shares.smallest, 101 / shares.holders) << "class " << c;
      EXPECT_LE(shares.largest - shares.smallest, 1) << "class " << c;
      if (shares.holders != 2) uneven_holders = true;
    }
  }
  // Rotation would give every class exactly two holders; random draws do not, in five seeds.
  EXPECT_TRUE(uneven_holders);

  // Seeded: the same seed gives the same split, another seed (here) another.
  auto a = LabelSplitPartitioner(niid).partition(labels, 10, 10, 7);
  auto b = LabelSplitPartitioner(niid).partition(labels, 10, 10, 7);
  auto other = LabelSplitPartitioner(niid).partition(labels, 10, 10, 8);
  ASSERT_TRUE(a.ok() && b.ok() && other.ok());
  EXPECT_EQ(a->client_indices, b->client_indices);
  EXPECT_NE(a->client_indices, other->client_indices);
}

TEST(LabelSplitPartitionerTest, NiidBenchAssignmentWithFewClientsLeavesUndrawnClassesOut) {
  // 3 clients: classes 0, 1, 2 are held, plus one random other each; the rest belong to nobody.
  const auto labels = balanced_labels(20);
  auto p = LabelSplitPartitioner(LabelSplitOptions{2, LabelAssignment::kNiidBench}).partition(labels, 10, 3, 9);
  ASSERT_TRUE(p.ok()) << p.status();
  expect_disjoint(*p, labels.size());
  for (int classes : classes_per_client(*p, labels, 10)) EXPECT_EQ(classes, 2);
  const auto counts = p->class_counts(labels, 10);
  for (size_t client = 0; client < 3; ++client) EXPECT_GT(counts[client][client], 0);
}

TEST(LabelSplitPartitionerTest, AssignmentNamesAreChecked) {
  EXPECT_EQ(parse_label_assignment("rotation").value(), LabelAssignment::kRotation);
  EXPECT_EQ(parse_label_assignment("niid_bench").value(), LabelAssignment::kNiidBench);
  auto bad = parse_label_assignment("NIID");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rotation or niid_bench, got 'NIID'"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace flotilla
