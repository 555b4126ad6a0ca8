// Gaussian noise for differential privacy. The seed must be unknown to whoever sees the noised
// result: secret_seed() draws it from OpenSSL's CSPRNG. The noise itself comes from LibTorch's
// CPU generator (a Mersenne Twister) seeded with it, like Opacus without its secure mode: the
// guarantee assumes the generator's output cannot be predicted from the noised values
// (docs/privacy.md).
#pragma once

#include <cstdint>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// 64 bits from OpenSSL's RAND_bytes; Internal when it fails (no entropy).
StatusOr<uint64_t> secret_seed();

// Adds independent N(0, stddev^2) draws, made in float64, to every element of the floating-point
// tensors of `state` (in place; integer tensors are left alone). The same seed gives the same noise.
void add_gaussian_noise(ModelState& state, double stddev, uint64_t seed);

// One N(0, stddev^2) draw from `seed`.
double gaussian_draw(double stddev, uint64_t seed);

}  // namespace flotilla
