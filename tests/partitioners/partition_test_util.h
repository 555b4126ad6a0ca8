// Helpers the partitioner tests share: label sets and partition properties.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "partitioners/partitioner.h"
#include "partitioners/random.h"

namespace flotilla::testing {

// `classes` balanced classes of `per_class` samples each, interleaved (0, 1, ..., 9, 0, 1, ...).
inline std::vector<int64_t> balanced_labels(int per_class, int classes = 10) {
  std::vector<int64_t> labels;
  for (int i = 0; i < per_class * classes; ++i) labels.push_back(i % classes);
  return labels;
}

// MNIST's training-set class counts (60,000 in all), so that tests can use the paper settings
// without the data. The order is a fixed shuffle, as in the real file, where labels are mixed.
inline std::vector<int64_t> mnist_like_labels() {
  const int64_t counts[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
  std::vector<int64_t> labels;
  for (int64_t c = 0; c < 10; ++c) labels.insert(labels.end(), static_cast<size_t>(counts[c]), c);
  Rng(2017).shuffle(labels);
  return labels;
}

// How many clients hold each index in [0, n); each client is non-empty and sorted.
inline std::vector<int> holders_per_index(const Partition& p, size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& client : p.client_indices) {
    EXPECT_FALSE(client.empty());
    EXPECT_TRUE(std::is_sorted(client.begin(), client.end()));
    for (int64_t i : client) {
      EXPECT_GE(i, 0);
      EXPECT_LT(static_cast<size_t>(i), n);
      if (i >= 0 && static_cast<size_t>(i) < n) ++seen[static_cast<size_t>(i)];
    }
  }
  return seen;
}

// Every index in [0, n) held by exactly one client; each client non-empty and sorted.
inline void expect_exact_cover(const Partition& p, size_t n) {
  const auto seen = holders_per_index(p, n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "sample " << i;
}

// Every index in [0, n) held by at most one client; each client non-empty and sorted.
inline void expect_disjoint(const Partition& p, size_t n) {
  const auto seen = holders_per_index(p, n);
  for (size_t i = 0; i < n; ++i) ASSERT_LE(seen[i], 1) << "sample " << i;
}

// classes[k] = the number of classes client k holds at least one sample of.
inline std::vector<int> classes_per_client(const Partition& p, const std::vector<int64_t>& labels,
                                           int64_t num_classes) {
  std::vector<int> classes;
  for (const auto& c : p.class_counts(labels, num_classes))
    classes.push_back(static_cast<int>(std::count_if(c.begin(), c.end(), [](int64_t x) { return x > 0; })));
  return classes;
}

inline std::vector<size_t> client_sizes(const Partition& p) {
  std::vector<size_t> sizes;
  for (const auto& c : p.client_indices) sizes.push_back(c.size());
  return sizes;
}

// Largest client size over the smallest: 1 for equal sizes.
inline double size_ratio(const Partition& p) {
  const auto sizes = client_sizes(p);
  return static_cast<double>(*std::max_element(sizes.begin(), sizes.end())) /
         static_cast<double>(*std::min_element(sizes.begin(), sizes.end()));
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
