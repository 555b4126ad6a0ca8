#include "secagg/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace flotilla::secagg {
namespace {

constexpr size_t kNonceBytes = 12, kTagBytes = 16;

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

Status openssl_error(const std::string& what) { return internal_error("OpenSSL: " + what + " failed"); }

StatusOr<Bytes> raw_key(EVP_PKEY* key, bool secret) {
  Bytes out(kKeyBytes);
  size_t length = out.size();
  const int ok = secret ? EVP_PKEY_get_raw_private_key(key, out.data(), &length)
                        : EVP_PKEY_get_raw_public_key(key, out.data(), &length);
  if (ok != 1 || length != kKeyBytes) return openssl_error("reading an X25519 key");
  return out;
}

Status check_length(std::span<const uint8_t> key, size_t want, const char* what) {
  if (key.size() == want) return Status();
  return invalid_argument_error(std::string(what) + " must be " + std::to_string(want) + " bytes, not " +
                                std::to_string(key.size()));
}

}  // namespace

StatusOr<Bytes> random_bytes(size_t count) {
  Bytes out(count);
  if (count > 0 && RAND_bytes(out.data(), static_cast<int>(count)) != 1) return openssl_error("RAND_bytes");
  return out;
}

StatusOr<KeyPair> generate_key_pair() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr), &EVP_PKEY_CTX_free);
  EVP_PKEY* made = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &made) != 1)
    return openssl_error("X25519 key generation");
  PkeyPtr key(made, &EVP_PKEY_free);
  KeyPair pair;
  ASSIGN_OR_RETURN(pair.public_key, raw_key(key.get(), false));
  ASSIGN_OR_RETURN(pair.secret_key, raw_key(key.get(), true));
  return pair;
}

StatusOr<Bytes> public_key_of(std::span<const uint8_t> secret_key) {
  RETURN_IF_ERROR(check_length(secret_key, kKeyBytes, "an X25519 secret key"));
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, secret_key.data(), secret_key.size()),
              &EVP_PKEY_free);
  if (!key) return invalid_argument_error("not an X25519 secret key");
  return raw_key(key.get(), false);
}

StatusOr<Bytes> agree(std::span<const uint8_t> secret_key, std::span<const uint8_t> peer_public_key) {
  RETURN_IF_ERROR(check_length(secret_key, kKeyBytes, "an X25519 secret key"));
  RETURN_IF_ERROR(check_length(peer_public_key, kKeyBytes, "an X25519 public key"));
  PkeyPtr ours(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, secret_key.data(), secret_key.size()),
               &EVP_PKEY_free);
  PkeyPtr theirs(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public_key.data(), peer_public_key.size()),
                 &EVP_PKEY_free);
  if (!ours || !theirs) return invalid_argument_error("not an X25519 key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(ours.get(), nullptr), &EVP_PKEY_CTX_free);
  Bytes shared(kKeyBytes);
  size_t length = shared.size();
  // OpenSSL refuses a peer key of small order (an all-zero shared secret) in derive.
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared.data(), &length) != 1 || length != kKeyBytes)
    return invalid_argument_error("X25519 key agreement failed (a degenerate public key?)");
  return shared;
}

StatusOr<Bytes> hkdf_sha256(std::span<const uint8_t> secret, std::string_view info, size_t length,
                            std::span<const uint8_t> salt) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), &EVP_KDF_free);
  if (!kdf) return openssl_error("fetching HKDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()), &EVP_KDF_CTX_free);
  char digest[] = "SHA256";
  std::string info_copy(info);
  Bytes salt_copy(salt.begin(), salt.end());
  Bytes key_copy(secret.begin(), secret.end());
  // No salt is RFC 5869's zero salt; OpenSSL wants the parameter left out then, not empty.
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key_copy.data(), key_copy.size());
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_copy.data(), info_copy.size());
  if (!salt_copy.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_copy.data(), salt_copy.size());
  params[n] = OSSL_PARAM_construct_end();
  Bytes out(length);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) return openssl_error("HKDF-SHA256");
  return out;
}

StatusOr<Bytes> seal(std::span<const uint8_t> key, std::span<const uint8_t> plaintext, std::span<const uint8_t> aad) {
  RETURN_IF_ERROR(check_length(key, kKeyBytes, "an AES-256-GCM key"));
  ASSIGN_OR_RETURN(Bytes out, random_bytes(kNonceBytes));
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int length = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &length, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out.data() + kNonceBytes, &length, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceBytes + length, &length) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, out.data() + kNonceBytes + plaintext.size()) != 1)
    return openssl_error("AES-256-GCM encryption");
  return out;
}

StatusOr<Bytes> open(std::span<const uint8_t> key, std::span<const uint8_t> sealed, std::span<const uint8_t> aad) {
  RETURN_IF_ERROR(check_length(key, kKeyBytes, "an AES-256-GCM key"));
  if (sealed.size() < kNonceBytes + kTagBytes)
    return invalid_argument_error("sealed share of " + std::to_string(sealed.size()) + " bytes is too short");
  const size_t body = sealed.size() - kNonceBytes - kTagBytes;
  Bytes out(body);
  Bytes tag(sealed.end() - kTagBytes, sealed.end());
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int length = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), sealed.data()) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &length, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &length, sealed.data() + kNonceBytes, static_cast<int>(body)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1)
    return openssl_error("AES-256-GCM decryption");
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + length, &length) != 1)
    return invalid_argument_error("sealed share does not authenticate (wrong key, sender or recipient, or altered)");
  return out;
}

StatusOr<std::vector<uint64_t>> expand_mask(std::span<const uint8_t> seed, size_t count) {
  ASSIGN_OR_RETURN(Bytes key, hkdf_sha256(seed, "flotilla secagg mask", 16));
  std::vector<uint64_t> words(count, 0);
  if (count == 0) return words;
  const unsigned char iv[16] = {0};
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, key.data(), iv) != 1)
    return openssl_error("AES-128-CTR");
  // The keystream is the encryption of zeros; in place, in chunks below INT_MAX bytes.
  auto* bytes = reinterpret_cast<unsigned char*>(words.data());
  size_t left = count * sizeof(uint64_t);
  while (left > 0) {
    const int chunk = static_cast<int>(std::min<size_t>(left, 1 << 30));
    int written = 0;
    if (EVP_EncryptUpdate(ctx.get(), bytes, &written, bytes, chunk) != 1 || written != chunk)
      return openssl_error("AES-128-CTR");
    bytes += chunk;
    left -= static_cast<size_t>(chunk);
  }
  return words;  // little-endian words on the machines Flotilla runs on; the same on both ends
}

}  // namespace flotilla::secagg
