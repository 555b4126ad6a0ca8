// A small generated data set for tests and demos without files: each class has a fixed random
// prototype image; samples are the prototype plus Gaussian noise. Learnable (a small model gets
// far above chance within a few epochs) but not trivially separable at the start.
#pragma once

#include <cstdint>

#include "datasets/dataset.h"

namespace flotilla {

struct SyntheticSpec {
  int64_t train_size = 2000;
  int64_t test_size = 500;
  int64_t channels = 1;
  int64_t height = 12;
  int64_t width = 12;
  int64_t num_classes = 10;
  uint64_t seed = 1234;
  double noise = 2.0;  // std of the per-pixel noise; prototypes have std 1
};

// Deterministic in the spec. Labels cycle through the classes, so classes are balanced.
DatasetSplits make_synthetic(const SyntheticSpec& spec = {});

}  // namespace flotilla
