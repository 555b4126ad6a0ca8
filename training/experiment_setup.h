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

// One logical client's data: its partition minus a held-out slice for local evaluation.
struct ClientData {
  TensorDataset train;
  TensorDataset holdout;  // empty when holdout_fraction is 0
};

// The held-out slice is a seeded random holdout_fraction of the client's indices (at least one
// sample is always kept for training).
ClientData client_data(const DatasetSplits& data, const Partition& partition, int client_id,
                       const Experiment& experiment);

}  // namespace flotilla
