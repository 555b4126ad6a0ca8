#include "training/experiment_setup.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "models/model_registry.h"
#include "partitioners/random.h"

namespace flotilla {

StatusOr<Partition> partition_for(const Experiment& experiment, const TensorDataset& train) {
  PartitionerRegistry registry("partitioner");
  RETURN_IF_ERROR(register_builtin_partitioners(registry));
  ASSIGN_OR_RETURN(auto partitioner, registry.create(experiment.partitioner, Options(experiment.partitioner_options)));
  const std::vector<int64_t> labels = train.label_vector();
  auto partition = partitioner->partition(labels, train.num_classes, experiment.num_clients, experiment.seed);
  if (!partition.ok()) return partition.status().with_context("partitioning " + experiment.dataset);
  return partition;
}

ModelSpec model_spec_for(const DatasetSplits& data) {
  return ModelSpec{data.channels(), data.height(), data.width(), data.train.num_classes};
}

StatusOr<std::shared_ptr<Model>> create_initial_model(const Experiment& experiment, const DatasetSplits& data) {
  at::manual_seed(experiment.seed);
  return create_model(experiment.model, model_spec_for(data));
}

ClientData client_data(const DatasetSplits& data, const Partition& partition, int client_id,
                       const Experiment& experiment) {
  FLOTILLA_CHECK(client_id >= 0 && client_id < partition.num_clients()) << "client id " << client_id;
  std::vector<int64_t> indices = partition.client_indices[static_cast<size_t>(client_id)];
  int64_t holdout = static_cast<int64_t>(experiment.holdout_fraction * static_cast<double>(indices.size()));
  holdout = std::clamp<int64_t>(holdout, 0, static_cast<int64_t>(indices.size()) - 1);
  ClientData out;
  if (holdout > 0) {
    Rng rng(derive_seed(experiment.seed, 0x686f6c64ULL + static_cast<uint64_t>(client_id)));
    rng.shuffle(indices);
    std::vector<int64_t> held(indices.end() - holdout, indices.end());
    indices.resize(indices.size() - static_cast<size_t>(holdout));
    std::sort(held.begin(), held.end());
    std::sort(indices.begin(), indices.end());
    out.holdout = data.train.select(at::tensor(held, at::kLong));
  }
  out.train = data.train.select(at::tensor(indices, at::kLong));
  return out;
}

}  // namespace flotilla
