// The contract every registered partitioner keeps, run over each one (and each option set that
// changes its code path): exact cover, sorted non-empty parts, determinism by seed, and the same
// InvalidArgument for impossible requests. The one documented exception: label_split leaves out
// the classes nobody holds when clients x labels_per_client < classes.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "partition_test_util.h"
#include "partitioners/partitioner.h"

namespace flotilla {
namespace {

using testing::balanced_labels;
using testing::expect_disjoint;
using testing::expect_exact_cover;

struct Scheme {
  std::string label;  // test name suffix
  std::string name;   // registry name
  Options options;
  // label_split's labels_per_client (K): every index is used only when clients * K >= classes,
  // and at most once otherwise. 0 for the schemes that always use every index.
  int labels_per_client = 0;
};

void PrintTo(const Scheme& s, std::ostream* os) { *os << s.label; }

class PartitionerContractTest : public ::testing::TestWithParam<Scheme> {
 protected:
  std::unique_ptr<Partitioner> make() {
    PartitionerRegistry registry("partitioner");
    EXPECT_TRUE(register_builtin_partitioners(registry).ok());
    auto made = registry.create(GetParam().name, GetParam().options);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? std::move(made).value() : nullptr;
  }
};

TEST_P(PartitionerContractTest, EveryIndexExactlyOnce) {
  auto p = make();
  ASSERT_NE(p, nullptr);
  const auto labels = balanced_labels(97);
  const int k = GetParam().labels_per_client;
  for (int clients : {1, 3, 10}) {
    auto part = p->partition(labels, 10, clients, 5);
    ASSERT_TRUE(part.ok()) << part.status();
    EXPECT_EQ(part->num_clients(), clients);
    if (k == 0 || clients * k >= 10) {
      expect_exact_cover(*part, labels.size());
    } else {
      expect_disjoint(*part, labels.size());
    }
  }
}

TEST_P(PartitionerContractTest, SameSeedSamePartitionOtherSeedAnother) {
  auto p = make();
  ASSERT_NE(p, nullptr);
  const auto labels = balanced_labels(100);
  auto a = p->partition(labels, 10, 8, 123);
  auto b = p->partition(labels, 10, 8, 123);
  auto c = p->partition(labels, 10, 8, 124);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->client_indices, b->client_indices);
  EXPECT_NE(a->client_indices, c->client_indices);
}

TEST_P(PartitionerContractTest, ClassCountsAddUpToTheLabels) {
  auto p = make();
  ASSERT_NE(p, nullptr);
  const std::vector<int64_t> labels = {0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2};
  auto part = p->partition(labels, 3, 2, 9);
  ASSERT_TRUE(part.ok()) << part.status();
  std::vector<int64_t> totals(3, 0), expected(3, 0);
  for (const auto& client : part->class_counts(labels, 3))
    for (size_t c = 0; c < 3; ++c) totals[c] += client[c];
  for (int64_t label : labels) ++expected[static_cast<size_t>(label)];
  EXPECT_EQ(totals, expected);
}

TEST_P(PartitionerContractTest, RejectsImpossibleRequestsByName) {
  auto p = make();
  ASSERT_NE(p, nullptr);
  const std::vector<int64_t> labels = {0, 1, 2, 0, 1, 2};
  auto none = p->partition(labels, 3, 0, 1);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  auto too_many = p->partition(labels, 3, 7, 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("7 clients"), std::string::npos) << too_many.status();

  const std::vector<int64_t> above = {0, 1, 3}, below = {0, -1, 2};
  auto high = p->partition(above, 3, 1, 1);
  ASSERT_FALSE(high.ok());
  EXPECT_NE(high.status().message().find("label 3 of sample 2"), std::string::npos) << high.status();
  EXPECT_FALSE(p->partition(below, 3, 1, 1).ok());
  EXPECT_FALSE(p->partition(labels, 0, 1, 1).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Builtins, PartitionerContractTest,
    ::testing::Values(Scheme{"iid", "iid", {}},
                      // min size 1: the contract cases have few samples per client.
                      Scheme{"dirichlet", "dirichlet", {{"min_partition_size", "1"}}},
                      Scheme{"dirichlet_unbalanced", "dirichlet", {{"min_partition_size", "1"}, {"balance", "false"}}},
                      Scheme{"dirichlet_skewed", "dirichlet", {{"min_partition_size", "1"}, {"alpha", "0.05"}}},
                      Scheme{"shards", "shards", {}}, Scheme{"shards_5", "shards", {{"shards_per_client", "5"}}},
                      Scheme{"label_split", "label_split", {}, 2},
                      Scheme{"label_split_3", "label_split", {{"labels_per_client", "3"}}, 3},
                      Scheme{"label_split_niid_bench", "label_split", {{"assignment", "niid_bench"}}, 2},
                      Scheme{"quantity_skew", "quantity_skew", {}},
                      Scheme{"quantity_skew_skewed", "quantity_skew", {{"min_partition_size", "1"}, {"alpha", "0.05"}}},
                      Scheme{"inner_dirichlet", "inner_dirichlet", {}},
                      Scheme{"inner_dirichlet_skewed", "inner_dirichlet", {{"alpha", "0.01"}}},
                      Scheme{"inner_dirichlet_flat", "inner_dirichlet", {{"alpha", "1000"}}}),
    [](const ::testing::TestParamInfo<Scheme>& param_info) { return param_info.param.label; });

}  // namespace
}  // namespace flotilla
