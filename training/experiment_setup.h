// Turns an Experiment (names and a seed) into the data split, the model and each client's
// slice, identically in every process: the coordinator and every client call these with the
// same Experiment and get the same result, so no data is shipped.
#pragma once

#include <memory>

#include "core/experiment.h"
#include "core/status.h"
#include "datasets/dataset.h"
#include "models/model.h"
#include "partitioners/partitioner.h"

namespace flotilla {

// Runs the named partitioner over the training labels.
StatusOr<Partition> partition_for(const Experiment& experiment, const TensorDataset& train);

ModelSpec model_spec_for(const DatasetSplits& data);

// The initial global model: built by name with torch's generator seeded from experiment.seed.
StatusOr<std::shared_ptr<Model>> create_initial_model(const Experiment& experiment, const DatasetSplits& data);

// The model's input in a run on clients' own data (dataset kLocalDataset): one sample's shape as
// the coordinator fixed it, padded to [C, H, W] with 1s ({13} -> 13x1x1), and its classes.
// InvalidArgument for a missing or malformed shape.
StatusOr<ModelSpec> model_spec_for(const Experiment& experiment);

// The initial global model of a run on clients' own data: as above, from model_spec_for(experiment).
StatusOr<std::shared_ptr<Model>> create_initial_model(const Experiment& experiment);

// One logical client's data: its partition minus a held-out slice for local evaluation.
struct ClientData {
  TensorDataset train;
  TensorDataset holdout;  // empty when holdout_fraction is 0
  TensorDataset test;     // a site's own test split (clients' own data only); empty otherwise
};

// The held-out slice is a seeded random holdout_fraction of the client's indices (at least one
// sample is always kept for training).
ClientData client_data(const DatasetSplits& data, const Partition& partition, int client_id,
                       const Experiment& experiment);

// The same split of a client's own training data (rows 0..N-1 in file order), so that a site whose
// file holds a partition's rows in index order gets the very slices client_data() cuts.
ClientData client_data(const TensorDataset& own_train, int client_id, const Experiment& experiment);

}  // namespace flotilla
