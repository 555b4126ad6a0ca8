// PartitionStats: how skewed a partition is, from its class counts alone (no labels, no torch),
// so the coordinator's run directory and flotilla-partition describe a split the same way.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace flotilla {

struct ClientPartitionStats {
  std::vector<int64_t> class_counts;  // samples of each class this client holds
  int64_t total = 0;                  // sum of class_counts
  int num_classes_held = 0;           // classes with a count > 0
  double emd = 0;                     // label_distribution_emd to the global counts; NaN when total is 0
};

// Distributions of the per-client values. A median of an even number of clients is the mean of
// the middle two; std is the population standard deviation (the clients are all there are, not
// a sample of them). With no clients every field is 0 except the EMD ones.
struct PartitionSummary {
  int num_clients = 0;
  int64_t num_classes = 0;
  int64_t total_samples = 0;  // over all clients
  int64_t samples_min = 0;
  double samples_median = 0;
  int64_t samples_max = 0;
  double samples_mean = 0;
  double samples_std = 0;
  int classes_min = 0;  // of num_classes_held
  double classes_median = 0;
  int classes_max = 0;
  double classes_mean = 0;
  // Over the clients that hold samples (an empty client has no label distribution); NaN when none does.
  double emd_min = 0;
  double emd_mean = 0;
  double emd_max = 0;
};

struct PartitionStats {
  std::vector<ClientPartitionStats> clients;  // clients[k] describes client k
  std::vector<int64_t> global_class_counts;   // summed over clients
  PartitionSummary summary;
};

// Earth mover's distance between a client's label distribution and the global one, for
// categorical labels as Zhao et al. 2018 ("Federated Learning with Non-IID Data", sec. 3.2)
// define it: EMD = sum_c |p_client(c) - p_global(c)|, where p(c) is a class's share of the
// samples. It lies in [0, 2]: 0 when the client's classes are in the global proportions, near 2
// when the client holds only classes that are rare overall. Both spans have one entry per class
// and equal length (checked); a distribution is undefined for zero samples, so NaN is returned
// when either sums to 0.
double label_distribution_emd(std::span<const int64_t> client_counts, std::span<const int64_t> global_counts);

// `class_counts[k][c]` = samples of class c held by client k, as Partition::class_counts returns:
// rectangular and non-negative (checked; the counts come from our own code, not from a user).
// The number of classes is the row length (0 with no clients).
PartitionStats compute_partition_stats(const std::vector<std::vector<int64_t>>& class_counts);

}  // namespace flotilla
