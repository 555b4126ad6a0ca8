// Helpers the partitioner tests share: label sets and partition properties.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "partitioners/partitioner.h"

namespace flotilla::testing {

// `classes` balanced classes of `per_class` samples each, interleaved (0, 1, ..., 9, 0, 1, ...).
inline std::vector<int64_t> balanced_labels(int per_class, int classes = 10) {
  std::vector<int64_t> labels;
  for (int i = 0; i < per_class * classes; ++i) labels.push_back(i % classes);
  return labels;
}

// Every index in [0, n) held by exactly one client; each client non-empty and sorted.
inline void expect_exact_cover(const Partition& p, size_t n) {
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

inline std::vector<size_t> client_sizes(const Partition& p) {
  std::vector<size_t> sizes;
  for (const auto& c : p.client_indices) sizes.push_back(c.size());
  return sizes;
}

// Mean over clients of the largest class share: 1/num_classes for a perfectly even split, 1 when
// every client holds a single class.
inline double mean_max_class_share(const Partition& p, const std::vector<int64_t>& labels, int64_t num_classes) {
  const auto counts = p.class_counts(labels, num_classes);
  double sum = 0;
  for (const auto& c : counts) {
    const double total = static_cast<double>(std::accumulate(c.begin(), c.end(), int64_t{0}));
    sum += static_cast<double>(*std::max_element(c.begin(), c.end())) / total;
  }
  return sum / static_cast<double>(counts.size());
}

}  // namespace flotilla::testing
