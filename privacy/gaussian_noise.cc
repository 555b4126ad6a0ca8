#include "privacy/gaussian_noise.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <openssl/rand.h>

namespace flotilla {

StatusOr<uint64_t> secret_seed() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1)
    return internal_error("OpenSSL's RAND_bytes failed: no secret randomness for the privacy noise");
  return seed;
}

void add_gaussian_noise(ModelState& state, double stddev, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& entry : state.mutable_entries()) {
    at::Tensor& t = entry.tensor;
    if (!t.is_floating_point()) continue;
    at::Tensor noise = at::empty(t.sizes(), t.options().dtype(at::kDouble).device(at::kCPU));
    noise.normal_(0.0, stddev, generator);
    t = at::add(t.to(at::kDouble), noise).to(t.scalar_type());
  }
}

double gaussian_draw(double stddev, uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor draw = at::empty({1}, at::TensorOptions().dtype(at::kDouble));
  draw.normal_(0.0, stddev, generator);
  return draw.item<double>();
}

}  // namespace flotilla
