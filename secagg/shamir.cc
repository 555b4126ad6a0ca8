#include "secagg/shamir.h"

#include <cstring>
#include <set>

#include "secagg/little_endian.h"

namespace flotilla::secagg {
namespace {

constexpr size_t kChunkBytes = 7;
__extension__ typedef unsigned __int128 Wide;  // a product of two field elements (GCC and Clang)

uint64_t reduce(Wide v) {
  // 2^61 = 1 (mod p): fold the high bits onto the low ones.
  uint64_t r = static_cast<uint64_t>(v & kShamirPrime) + static_cast<uint64_t>(v >> 61);
  r = (r & kShamirPrime) + (r >> 61);
  return r >= kShamirPrime ? r - kShamirPrime : r;
}
uint64_t add(uint64_t a, uint64_t b) { return reduce(static_cast<Wide>(a) + b); }
uint64_t sub(uint64_t a, uint64_t b) { return add(a, kShamirPrime - b); }
uint64_t mul(uint64_t a, uint64_t b) { return reduce(static_cast<Wide>(a) * b); }
uint64_t power(uint64_t base, uint64_t exponent) {
  uint64_t result = 1;
  for (; exponent; exponent >>= 1, base = mul(base, base))
    if (exponent & 1) result = mul(result, base);
  return result;
}
uint64_t inverse(uint64_t a) { return power(a, kShamirPrime - 2); }  // Fermat; a != 0

// A uniform field element: 61 random bits, redrawn when they land on p or above (2^-61 of draws).
StatusOr<uint64_t> random_element() {
  for (;;) {
    ASSIGN_OR_RETURN(Bytes b, random_bytes(8));
    uint64_t v = 0;
    std::memcpy(&v, b.data(), 8);
    v &= kShamirPrime;
    if (v < kShamirPrime) return v;
  }
}

}  // namespace

StatusOr<std::vector<Share>> split_secret(const Bytes& secret, int threshold, int n) {
  if (threshold < 1 || threshold > n)
    return invalid_argument_error("Shamir threshold " + std::to_string(threshold) + " must be in 1.." +
                                  std::to_string(n));
  const size_t chunks = (secret.size() + kChunkBytes - 1) / kChunkBytes;
  std::vector<Share> shares(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    shares[static_cast<size_t>(i)].x = static_cast<uint32_t>(i + 1);
    shares[static_cast<size_t>(i)].values.resize(chunks);
  }
  std::vector<uint64_t> coefficients(static_cast<size_t>(threshold));
  for (size_t c = 0; c < chunks; ++c) {
    coefficients[0] = get_le(secret, c * kChunkBytes, std::min(kChunkBytes, secret.size() - c * kChunkBytes));
    for (int k = 1; k < threshold; ++k) {
      ASSIGN_OR_RETURN(coefficients[static_cast<size_t>(k)], random_element());
    }
    for (auto& share : shares) {
      uint64_t value = 0;  // Horner
      for (int k = threshold - 1; k >= 0; --k) value = add(mul(value, share.x), coefficients[static_cast<size_t>(k)]);
      share.values[c] = value;
    }
  }
  return shares;
}

StatusOr<Bytes> reconstruct_secret(const std::vector<Share>& shares, int threshold, size_t secret_bytes) {
  if (threshold < 1 || static_cast<int>(shares.size()) < threshold)
    return invalid_argument_error("Shamir reconstruction needs " + std::to_string(threshold) + " shares, got " +
                                  std::to_string(shares.size()));
  const size_t chunks = (secret_bytes + kChunkBytes - 1) / kChunkBytes;
  std::set<uint32_t> seen;
  for (int i = 0; i < threshold; ++i) {
    const Share& s = shares[static_cast<size_t>(i)];
    if (s.x == 0 || s.x >= kShamirPrime || !seen.insert(s.x).second)
      return invalid_argument_error("Shamir shares need distinct, non-zero x (x = " + std::to_string(s.x) +
                                    " is zero or repeats)");
    if (s.values.size() != chunks)
      return invalid_argument_error("a Shamir share has " + std::to_string(s.values.size()) + " values, not " +
                                    std::to_string(chunks));
  }
  // Lagrange weights at 0: l_i = prod_{j != i} x_j / (x_j - x_i).
  std::vector<uint64_t> weights(static_cast<size_t>(threshold));
  for (int i = 0; i < threshold; ++i) {
    uint64_t num = 1, den = 1;
    const uint64_t xi = shares[static_cast<size_t>(i)].x;
    for (int j = 0; j < threshold; ++j) {
      if (j == i) continue;
      const uint64_t xj = shares[static_cast<size_t>(j)].x;
      num = mul(num, xj);
      den = mul(den, sub(xj, xi));
    }
    weights[static_cast<size_t>(i)] = mul(num, inverse(den));
  }
  Bytes secret(secret_bytes);
  for (size_t c = 0; c < chunks; ++c) {
    uint64_t value = 0;
    for (int i = 0; i < threshold; ++i)
      value = add(value, mul(weights[static_cast<size_t>(i)], shares[static_cast<size_t>(i)].values[c]));
    const size_t width = std::min(kChunkBytes, secret_bytes - c * kChunkBytes);
    if (value >> (8 * width))
      return invalid_argument_error("Shamir reconstruction gave no valid secret (too few or inconsistent shares)");
    for (size_t b = 0; b < width; ++b) secret[c * kChunkBytes + b] = static_cast<uint8_t>(value >> (8 * b));
  }
  return secret;
}

Bytes serialise(const Share& share) {
  Bytes out;
  put_u32(out, share.x);
  put_u32(out, static_cast<uint32_t>(share.values.size()));
  for (uint64_t v : share.values) put_u64(out, v);
  return out;
}

StatusOr<Share> deserialise_share(std::span<const uint8_t> bytes) {
  if (bytes.size() < 8) return invalid_argument_error("a Shamir share of " + std::to_string(bytes.size()) + " bytes");
  Share share;
  share.x = static_cast<uint32_t>(get_le(bytes, 0, 4));
  const size_t count = get_le(bytes, 4, 4);
  if (bytes.size() != 8 + 8 * count)
    return invalid_argument_error("a Shamir share of " + std::to_string(bytes.size()) + " bytes says it holds " +
                                  std::to_string(count) + " values");
  for (size_t i = 0; i < count; ++i) {
    const uint64_t v = get_le(bytes, 8 + 8 * i, 8);
    if (v >= kShamirPrime) return invalid_argument_error("a Shamir share value is not a field element");
    share.values.push_back(v);
  }
  return share;
}

}  // namespace flotilla::secagg
