// Evaluation of a model on a labelled dataset: loss, accuracy and per-class accuracy.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "datasets/dataset.h"
#include "models/model.h"

namespace flotilla {

struct EvalResult {
  double loss = 0.0;      // mean cross-entropy
  double accuracy = 0.0;  // in [0, 1]
  int64_t num_samples = 0;
  std::vector<int64_t> class_correct;  // per class
  std::vector<int64_t> class_total;

  // correct / total of class c, or NaN when the class has no samples.
  double class_accuracy(size_t c) const;
};

// Batches of `batch_size` are moved to `device` as needed; the model is put in eval mode.
StatusOr<EvalResult> evaluate(Model& model, const TensorDataset& data, c10::Device device, int64_t batch_size = 1000);

}  // namespace flotilla
