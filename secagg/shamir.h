// Shamir's t-of-n secret sharing of byte strings over the prime field GF(2^61 - 1): any t shares
// give the secret back, t - 1 give a polynomial's value at 0 that is uniformly random and says
// nothing of it. A secret is split into 7-byte chunks (56 bits, below the prime), each shared with
// its own random polynomial of degree t - 1; a share is the x (1..n) and one field element per
// chunk.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "secagg/crypto.h"

namespace flotilla::secagg {

inline constexpr uint64_t kShamirPrime = (uint64_t{1} << 61) - 1;

struct Share {
  uint32_t x = 0;                // the evaluation point, 1..n
  std::vector<uint64_t> values;  // one field element per 7-byte chunk of the secret
};

// n shares of `secret`, any `threshold` of which reconstruct it (1 <= threshold <= n). The
// polynomials' coefficients come from OpenSSL's CSPRNG.
StatusOr<std::vector<Share>> split_secret(const Bytes& secret, int threshold, int n);

// The secret of `secret_bytes` bytes from at least `threshold` shares with distinct x (the first
// `threshold` are used). InvalidArgument for too few shares, duplicate or zero x, shares of
// different lengths, or an interpolated chunk that is no 7-byte value (which is what t - 1 shares
// usually give).
StatusOr<Bytes> reconstruct_secret(const std::vector<Share>& shares, int threshold, size_t secret_bytes);

// A share as bytes and back (x, count, values; little-endian), for sealing.
Bytes serialise(const Share& share);
StatusOr<Share> deserialise_share(std::span<const uint8_t> bytes);

}  // namespace flotilla::secagg
