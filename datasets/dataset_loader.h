// Loads a dataset by name from the official file formats into memory.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "datasets/dataset.h"

namespace flotilla {

// Names: "mnist", "fashion-mnist", "cifar10", "synthetic".
std::vector<std::string> dataset_names();

// The folder used when --data-dir is empty: /usr/share/datasets/fashion-mnist for fashion-mnist
// (Debian's dataset-fashion-mnist), "data/<name>" otherwise.
std::string default_data_dir(const std::string& name);

// mnist / fashion-mnist: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
// cifar10: DIR/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin, or DIR being that folder.
// synthetic: generated (see datasets/synthetic.h), DIR ignored.
// Missing, truncated or corrupt files: a Status naming the file and the problem.
StatusOr<DatasetSplits> load_dataset(const std::string& name, const std::string& data_dir);

}  // namespace flotilla
