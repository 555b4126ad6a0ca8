#include "partitioners/partition_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/check.h"

namespace flotilla {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <typename T>
double mean_of(const std::vector<T>& values) {
  double sum = 0;
  for (T v : values) sum += static_cast<double>(v);
  return sum / static_cast<double>(values.size());
}

// `values` non-empty.
template <typename T>
double median_of(std::vector<T> values) {
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  if (values.size() % 2 == 1) return static_cast<double>(values[mid]);
  return (static_cast<double>(values[mid - 1]) + static_cast<double>(values[mid])) / 2;
}

template <typename T>
double population_std_of(const std::vector<T>& values) {
  const double mean = mean_of(values);
  double sum = 0;
  for (T v : values) sum += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
  return std::sqrt(sum / static_cast<double>(values.size()));
}

}  // namespace

double label_distribution_emd(std::span<const int64_t> client_counts, std::span<const int64_t> global_counts) {
  FLOTILLA_CHECK(client_counts.size() == global_counts.size())
      << client_counts.size() << " client classes vs " << global_counts.size() << " global";
  const int64_t client_total = std::accumulate(client_counts.begin(), client_counts.end(), int64_t{0});
  const int64_t global_total = std::accumulate(global_counts.begin(), global_counts.end(), int64_t{0});
  if (client_total == 0 || global_total == 0) return kNaN;
  double emd = 0;
  for (size_t c = 0; c < client_counts.size(); ++c) {
    emd += std::abs(static_cast<double>(client_counts[c]) / static_cast<double>(client_total) -
                    static_cast<double>(global_counts[c]) / static_cast<double>(global_total));
  }
  return emd;
}

PartitionStats compute_partition_stats(const std::vector<std::vector<int64_t>>& class_counts) {
  PartitionStats stats;
  const size_t num_classes = class_counts.empty() ? 0 : class_counts[0].size();
  stats.global_class_counts.assign(num_classes, 0);
  for (size_t k = 0; k < class_counts.size(); ++k) {
    FLOTILLA_CHECK(class_counts[k].size() == num_classes)
        << "client " << k << " has " << class_counts[k].size() << " classes, client 0 has " << num_classes;
    ClientPartitionStats client;
    client.class_counts = class_counts[k];
    for (size_t c = 0; c < num_classes; ++c) {
      const int64_t n = class_counts[k][c];
      FLOTILLA_CHECK(n >= 0) << "client " << k << " class " << c << " count " << n;
      client.total += n;
      if (n > 0) ++client.num_classes_held;
      stats.global_class_counts[c] += n;
    }
    stats.clients.push_back(std::move(client));
  }

  PartitionSummary& s = stats.summary;
  s.num_clients = static_cast<int>(stats.clients.size());
  s.num_classes = static_cast<int64_t>(num_classes);
  std::vector<int64_t> samples;
  std::vector<int> classes;
  std::vector<double> emds;
  for (ClientPartitionStats& client : stats.clients) {
    client.emd = label_distribution_emd(client.class_counts, stats.global_class_counts);
    s.total_samples += client.total;
    samples.push_back(client.total);
    classes.push_back(client.num_classes_held);
    if (!std::isnan(client.emd)) emds.push_back(client.emd);
  }
  if (!samples.empty()) {
    s.samples_min = *std::min_element(samples.begin(), samples.end());
    s.samples_max = *std::max_element(samples.begin(), samples.end());
    s.samples_median = median_of(samples);
    s.samples_mean = mean_of(samples);
    s.samples_std = population_std_of(samples);
    s.classes_min = *std::min_element(classes.begin(), classes.end());
    s.classes_max = *std::max_element(classes.begin(), classes.end());
    s.classes_median = median_of(classes);
    s.classes_mean = mean_of(classes);
  }
  if (emds.empty()) {
    s.emd_min = s.emd_mean = s.emd_max = kNaN;
  } else {
    s.emd_min = *std::min_element(emds.begin(), emds.end());
    s.emd_max = *std::max_element(emds.begin(), emds.end());
    s.emd_mean = mean_of(emds);
  }
  return stats;
}

}  // namespace flotilla
