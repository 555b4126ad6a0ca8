// A small generated data set for tests and demos without files: each class has a fixed random
// prototype image and a sample is its class's prototype plus Gaussian noise. With the defaults a
// 2-hidden-layer MLP starts at chance and reaches about 85-90% test accuracy after one epoch on
// the training set (the Bayes rate is about 99%), so learning is visible but not instant.
#pragma once

#include <cstdint>

#include "datasets/dataset.h"

namespace flotilla {

struct SyntheticSpec {
  int64_t train_size = 2000;  // samples in the train split; >= 0
  int64_t test_size = 500;    // samples in the test split; >= 0
  int64_t channels = 1;       // image shape [channels, height, width]; each >= 1
  int64_t height = 12;
  int64_t width = 12;
  int64_t num_classes = 10;  // >= 1
  uint64_t seed = 1234;      // everything, both splits included, is a function of the spec
  double noise = 3.0;        // per-pixel noise std relative to the prototypes' std of 1; >= 0
};

// Deterministic in the spec (same spec, same tensors, on one LibTorch version). Images are
// float32 [N, C, H, W] scaled by 1 / sqrt(1 + noise^2) so each pixel has mean 0 and variance 1,
// like the normalised real data sets; labels are balanced (each class within one of N / classes)
// and shuffled. The spec's bounds above are checked (FLOTILLA_CHECK): specs come from code.
DatasetSplits make_synthetic(const SyntheticSpec& spec = {});

}  // namespace flotilla
