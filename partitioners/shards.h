// Shards: the pathological non-IID split of the FedAvg paper (McMahan et al. 2017, "sort the
// data by digit label, divide it into 200 shards of size 300, and assign each of 100 clients 2
// shards"). Sample indices are sorted by label (stable: ties keep index order), cut into
// num_clients * shards_per_client contiguous shards whose sizes differ by at most one (the first
// N mod shards are one larger), the shard ids are shuffled with the seeded Rng and client k gets
// the shards at positions [k * shards_per_client, (k + 1) * shards_per_client) of that shuffle.
// Every index is used exactly once and every client gets the same number of shards. A shard
// spans at most two classes when no class is smaller than a shard (true for MNIST: 300 against
// 5421), so a client then sees at most 2 * shards_per_client classes.
#pragma once

#include "partitioners/partitioner.h"

namespace flotilla {

struct ShardsOptions {
  int64_t shards_per_client = 2;  // >= 1; num_clients * shards_per_client must not exceed the samples
};

// InvalidArgument naming the first option out of range.
Status check_shards_options(const ShardsOptions& options);

// Stateless after construction: partition() may be called from several threads.
class ShardsPartitioner final : public Partitioner {
 public:
  explicit ShardsPartitioner(ShardsOptions options) : options_(options) {}
  // Also InvalidArgument when the options are out of range or there are fewer samples than
  // shards (each shard needs at least one sample).
  StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                uint64_t seed) const override;
  // "shards" with option shards_per_client.
  static PartitionerRegistry::Entry registry_entry();

 private:
  ShardsOptions options_;
};

}  // namespace flotilla
