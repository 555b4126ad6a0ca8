#include "secagg/wire.h"

#include <string>

namespace flotilla::secagg {
namespace {

std::string text(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }
Bytes bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

}  // namespace

msg::SecAggKeys to_wire(const AdvertisedKeys& keys) {
  return {keys.id, text(keys.cipher_public_key), text(keys.mask_public_key)};
}

AdvertisedKeys from_wire(const msg::SecAggKeys& keys) {
  return {keys.id, bytes(keys.cipher_public_key), bytes(keys.mask_public_key)};
}

std::vector<AdvertisedKeys> from_wire(const std::vector<msg::SecAggKeys>& keys) {
  std::vector<AdvertisedKeys> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(from_wire(k));
  return out;
}

msg::SecAggSealed to_wire(const SealedShares& sealed) { return {sealed.from, sealed.to, text(sealed.sealed)}; }

std::vector<SealedShares> from_wire(const std::vector<msg::SecAggSealed>& sealed) {
  std::vector<SealedShares> out;
  out.reserve(sealed.size());
  for (const auto& s : sealed) out.push_back({s.from, s.to, bytes(s.sealed)});
  return out;
}

std::vector<msg::SecAggShare> to_wire(const std::map<int, Share>& shares) {
  std::vector<msg::SecAggShare> out;
  out.reserve(shares.size());
  for (const auto& [owner, share] : shares) out.push_back({owner, share.x, share.values});
  return out;
}

StatusOr<std::map<int, Share>> from_wire(const std::vector<msg::SecAggShare>& shares) {
  std::map<int, Share> out;
  for (const auto& s : shares)
    if (!out.emplace(s.owner, Share{s.x, s.values}).second)
      return invalid_argument_error("two shares of client " + std::to_string(s.owner) + "'s secret in one answer");
  return out;
}

}  // namespace flotilla::secagg
