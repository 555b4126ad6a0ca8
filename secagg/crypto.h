// The cryptography of secure aggregation, all from OpenSSL: X25519 key agreement, HKDF-SHA256,
// AES-256-GCM for the key shares relayed through the coordinator, and AES-128-CTR to expand a
// 32-byte seed into a mask of 64-bit words. Keys and seeds are plain byte strings so that the
// protocol (secagg/protocol.h) can share, send and store them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla::secagg {

using Bytes = std::vector<uint8_t>;
inline constexpr size_t kKeyBytes = 32;  // X25519 keys, seeds, derived keys

// `count` bytes from OpenSSL's CSPRNG; Internal when it fails.
StatusOr<Bytes> random_bytes(size_t count);

struct KeyPair {
  Bytes public_key;  // 32 bytes
  Bytes secret_key;  // 32 bytes
};
// A fresh X25519 key pair.
StatusOr<KeyPair> generate_key_pair();
// The public key of an X25519 secret key.
StatusOr<Bytes> public_key_of(std::span<const uint8_t> secret_key);
// The X25519 shared secret of our secret key and their public key (the same from both sides).
// InvalidArgument for keys of the wrong length or a degenerate (all-zero) result.
StatusOr<Bytes> agree(std::span<const uint8_t> secret_key, std::span<const uint8_t> peer_public_key);

// HKDF-SHA256 (RFC 5869) of `secret` with `salt` and `info`, `length` bytes.
StatusOr<Bytes> hkdf_sha256(std::span<const uint8_t> secret, std::string_view info, size_t length = kKeyBytes,
                            std::span<const uint8_t> salt = {});

// AES-256-GCM with a random 12-byte nonce: nonce || ciphertext || 16-byte tag. `aad` is
// authenticated, not encrypted (the sender and recipient ids).
StatusOr<Bytes> seal(std::span<const uint8_t> key, std::span<const uint8_t> plaintext, std::span<const uint8_t> aad);
// The inverse; InvalidArgument when the ciphertext, its tag or the aad do not check out.
StatusOr<Bytes> open(std::span<const uint8_t> key, std::span<const uint8_t> sealed, std::span<const uint8_t> aad);

// `count` 64-bit words of AES-128-CTR keystream under a key derived from `seed` (HKDF, info
// "flotilla secagg mask"): the pseudo-random mask of a seed. Deterministic.
StatusOr<std::vector<uint64_t>> expand_mask(std::span<const uint8_t> seed, size_t count);

}  // namespace flotilla::secagg
