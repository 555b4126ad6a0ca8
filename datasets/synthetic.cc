#include "datasets/synthetic.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace flotilla {
namespace {

TensorDataset draw(const SyntheticSpec& s, const at::Tensor& prototypes, int64_t n, at::Generator& gen) {
  TensorDataset d;
  // A shuffled, balanced label sequence.
  at::Tensor labels = at::arange(n, at::kLong).remainder(s.num_classes);
  d.labels = labels.index_select(0, at::randperm(n, gen, at::kLong));
  at::Tensor noise = at::normal(0.0, s.noise, {n, s.channels, s.height, s.width}, gen);
  d.images = prototypes.index_select(0, d.labels) + noise;
  d.num_classes = s.num_classes;
  return d;
}

}  // namespace

DatasetSplits make_synthetic(const SyntheticSpec& spec) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
  const at::Tensor prototypes = at::normal(0.0, 1.0, {spec.num_classes, spec.channels, spec.height, spec.width}, gen);
  DatasetSplits s;
  s.name = "synthetic";
  s.train = draw(spec, prototypes, spec.train_size, gen);
  s.test = draw(spec, prototypes, spec.test_size, gen);
  for (int64_t c = 0; c < spec.num_classes; ++c) s.class_names.push_back("class " + std::to_string(c));
  return s;
}

}  // namespace flotilla
