#include "datasets/synthetic.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/normal.h>
#include <ATen/ops/randperm.h>

#include <cmath>

#include "core/check.h"

namespace flotilla {
namespace {

// Draws n samples: balanced labels in a random order, each image its prototype plus noise.
TensorDataset draw(const SyntheticSpec& s, const at::Tensor& prototypes, int64_t n, at::Generator& gen) {
  TensorDataset d;
  const at::Tensor balanced = at::arange(n, at::kLong).remainder_(s.num_classes);
  d.labels = balanced.index_select(0, at::randperm(n, gen, at::kLong));
  const at::Tensor noise = at::normal(0.0, s.noise, {n, s.channels, s.height, s.width}, gen);
  // Unit variance per pixel, whatever the noise level: models see the scale of normalised data.
  d.images = prototypes.index_select(0, d.labels).add_(noise).div_(std::sqrt(1.0 + s.noise * s.noise));
  d.num_classes = s.num_classes;
  return d;
}

}  // namespace

DatasetSplits make_synthetic(const SyntheticSpec& spec) {
  FLOTILLA_CHECK(spec.train_size >= 0 && spec.test_size >= 0) << "synthetic split sizes must be >= 0";
  FLOTILLA_CHECK(spec.channels >= 1 && spec.height >= 1 && spec.width >= 1) << "synthetic image dims must be >= 1";
  FLOTILLA_CHECK(spec.num_classes >= 1) << "synthetic num_classes must be >= 1";
  FLOTILLA_CHECK(spec.noise >= 0 && std::isfinite(spec.noise)) << "synthetic noise must be finite and >= 0";
  // One generator, drawn in a fixed order (prototypes, train, test), makes the splits a function of
  // the seed alone and independent of the global torch seed.
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
