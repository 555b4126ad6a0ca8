#include "secagg/crypto.h"

#include <gtest/gtest.h>

#include <string>

namespace flotilla::secagg {
namespace {

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::span<const uint8_t> text(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(SecAggCryptoTest, X25519MatchesRfc7748) {
  // RFC 7748, section 6.1.
  const Bytes alice_secret = from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const Bytes alice_public = from_hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const Bytes bob_secret = from_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const Bytes bob_public = from_hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const Bytes shared = from_hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(*public_key_of(alice_secret), alice_public);
  EXPECT_EQ(*agree(alice_secret, bob_public), shared);
  EXPECT_EQ(*agree(bob_secret, alice_public), shared);
}

TEST(SecAggCryptoTest, FreshKeyPairsAgreeAndDiffer) {
  auto a = generate_key_pair(), b = generate_key_pair(), c = generate_key_pair();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*agree(a->secret_key, b->public_key), *agree(b->secret_key, a->public_key));
  EXPECT_NE(*agree(a->secret_key, b->public_key), *agree(a->secret_key, c->public_key));
  EXPECT_FALSE(agree(Bytes(31, 1), b->public_key).ok());  // wrong length
  EXPECT_FALSE(agree(a->secret_key, Bytes(32, 0)).ok());  // a small-order point gives no secret
}

TEST(SecAggCryptoTest, HkdfMatchesRfc5869) {
  // RFC 5869, test case 1.
  const Bytes ikm(22, 0x0b);
  const Bytes salt = from_hex("000102030405060708090a0b0c");
  const Bytes info = from_hex("f0f1f2f3f4f5f6f7f8f9");
  auto okm = hkdf_sha256(ikm, std::string(info.begin(), info.end()), 42, salt);
  ASSERT_TRUE(okm.ok()) << okm.status().message();
  EXPECT_EQ(*okm, from_hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
}

TEST(SecAggCryptoTest, SealedSharesOpenOnlyUnalteredWithTheirKeyAndRecipient) {
  const Bytes key(32, 7), other(32, 8);
  const std::string message = "share of client 3 for client 5";
  auto sealed = seal(key, text(message), text("3->5"));
  ASSERT_TRUE(sealed.ok());
  auto opened = open(key, *sealed, text("3->5"));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(std::string(opened->begin(), opened->end()), message);
  EXPECT_FALSE(open(other, *sealed, text("3->5")).ok());
  EXPECT_FALSE(open(key, *sealed, text("3->6")).ok());  // relayed to someone else
  Bytes tampered = *sealed;
  tampered[15] ^= 1;
  EXPECT_FALSE(open(key, tampered, text("3->5")).ok());
  EXPECT_FALSE(open(key, Bytes(10, 0), text("3->5")).ok());
  EXPECT_NE(*seal(key, text(message), text("3->5")), *sealed);  // fresh nonce every time
}

TEST(SecAggCryptoTest, MasksAreDeterministicPerSeedAndLookUniform) {
  const Bytes seed(32, 1), other(32, 2);
  auto a = expand_mask(seed, 100000), b = expand_mask(seed, 100000), c = expand_mask(other, 100000);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  // A prefix of a longer mask is the shorter mask.
  auto prefix = expand_mask(seed, 10);
  EXPECT_TRUE(std::equal(prefix->begin(), prefix->end(), a->begin()));
  double ones = 0;
  for (uint64_t w : *a) ones += __builtin_popcountll(w);
  EXPECT_NEAR(ones / (64.0 * a->size()), 0.5, 0.001);
}

}  // namespace
}  // namespace flotilla::secagg
