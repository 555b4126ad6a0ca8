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

StatusOr<ModelSpec> model_spec_for(const Experiment& experiment) {
  const auto& shape = experiment.sample_shape;
  if (shape.empty() || shape.size() > 3)
    return invalid_argument_error("a model input of " + std::to_string(shape.size()) +
                                  " dimensions per sample (1 to 3: features, or channels x height x width)");
  for (int64_t d : shape)
    if (d < 1) return invalid_argument_error("a model input dimension of " + std::to_string(d));
  if (experiment.num_classes < 2)
    return invalid_argument_error("a model of " + std::to_string(experiment.num_classes) + " classes");
  return ModelSpec{shape[0], shape.size() > 1 ? shape[1] : 1, shape.size() > 2 ? shape[2] : 1, experiment.num_classes};
}

StatusOr<std::shared_ptr<Model>> create_initial_model(const Experiment& experiment) {
  ASSIGN_OR_RETURN(ModelSpec spec, model_spec_for(experiment));
  at::manual_seed(experiment.seed);
  return create_model(experiment.model, spec);
}

namespace {

// Splits `indices` (a client's rows of `source`, ascending) into training rows and a seeded held-out
// slice.
ClientData split_rows(const TensorDataset& source, std::vector<int64_t> indices, int client_id,
                      const Experiment& experiment) {
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
    out.holdout = source.select(at::tensor(held, at::kLong));
  }
  out.train = source.select(at::tensor(indices, at::kLong));
  return out;
}

}  // namespace

ClientData client_data(const DatasetSplits& data, const Partition& partition, int client_id,
                       const Experiment& experiment) {
  FLOTILLA_CHECK(client_id >= 0 && client_id < partition.num_clients()) << "client id " << client_id;
  return split_rows(data.train, partition.client_indices[static_cast<size_t>(client_id)], client_id, experiment);
}

ClientData client_data(const TensorDataset& own_train, int client_id, const Experiment& experiment) {
  std::vector<int64_t> rows(static_cast<size_t>(own_train.size()));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  return split_rows(own_train, std::move(rows), client_id, experiment);
}

}  // namespace flotilla
