#include "secagg/protocol.h"

#include <algorithm>
#include <limits>

#include "secagg/little_endian.h"
#include "secagg/neighbours.h"

namespace flotilla::secagg {
namespace {

std::string share_aad(int round, int from, int to) {
  return "flotilla secagg round " + std::to_string(round) + " from " + std::to_string(from) + " to " +
         std::to_string(to);
}

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The key that seals u's shares for v: both derive it, from their cipher key pairs.
StatusOr<Bytes> share_key(const Bytes& secret_key, const Bytes& peer_public_key) {
  ASSIGN_OR_RETURN(Bytes shared, agree(secret_key, peer_public_key));
  return hkdf_sha256(shared, "flotilla secagg shares");
}

// The seed of the pairwise mask of u and v, from their mask key pairs.
StatusOr<Bytes> pair_seed(const Bytes& secret_key, const Bytes& peer_public_key, int round) {
  ASSIGN_OR_RETURN(Bytes shared, agree(secret_key, peer_public_key));
  return hkdf_sha256(shared, "flotilla secagg pair mask round " + std::to_string(round));
}

// words += sign * mask(seed), mod 2^64.
Status apply_mask(std::vector<uint64_t>& words, const Bytes& seed, bool add) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> mask, expand_mask(seed, words.size()));
  for (size_t i = 0; i < words.size(); ++i) words[i] = add ? words[i] + mask[i] : words[i] - mask[i];
  return Status();
}

Bytes pack_two(const Bytes& a, const Bytes& b) {
  Bytes out;
  put_u32(out, static_cast<uint32_t>(a.size()));
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

StatusOr<std::pair<Share, Share>> unpack_two(const Bytes& packed) {
  if (packed.size() < 4) return invalid_argument_error("sealed shares too short");
  const size_t n = get_le(packed, 0, 4);
  if (packed.size() < 4 + n) return invalid_argument_error("sealed shares truncated");
  const std::span<const uint8_t> all(packed);
  ASSIGN_OR_RETURN(Share first, deserialise_share(all.subspan(4, n)));
  ASSIGN_OR_RETURN(Share second, deserialise_share(all.subspan(4 + n)));
  return std::make_pair(std::move(first), std::move(second));
}

}  // namespace

// ---- client -----------------------------------------------------------------------------------

StatusOr<AdvertisedKeys> SecAggClient::advertise() {
  ASSIGN_OR_RETURN(cipher_keys_, generate_key_pair());
  ASSIGN_OR_RETURN(mask_keys_, generate_key_pair());
  return AdvertisedKeys{id_, cipher_keys_.public_key, mask_keys_.public_key};
}

StatusOr<std::vector<SealedShares>> SecAggClient::share_keys(const std::vector<AdvertisedKeys>& neighbours) {
  if (mask_keys_.secret_key.empty()) return failed_precondition_error("secure aggregation: keys not advertised yet");
  neighbours_.clear();
  for (const auto& keys : neighbours)
    if (keys.id != id_) neighbours_[keys.id] = keys;
  const int m = static_cast<int>(neighbours_.size());
  if (m < params_.threshold)
    return failed_precondition_error("secure aggregation: client " + std::to_string(id_) + " has only " +
                                     std::to_string(m) + " neighbour(s) left after advertising keys, threshold " +
                                     std::to_string(params_.threshold));
  ASSIGN_OR_RETURN(self_mask_seed_, random_bytes(kKeyBytes));
  ASSIGN_OR_RETURN(std::vector<Share> key_shares, split_secret(mask_keys_.secret_key, params_.threshold, m));
  ASSIGN_OR_RETURN(std::vector<Share> seed_shares, split_secret(self_mask_seed_, params_.threshold, m));
  std::vector<SealedShares> out;
  size_t i = 0;
  for (const auto& [v, keys] : neighbours_) {
    ASSIGN_OR_RETURN(Bytes key, share_key(cipher_keys_.secret_key, keys.cipher_public_key));
    const Bytes plaintext = pack_two(serialise(key_shares[i]), serialise(seed_shares[i]));
    ASSIGN_OR_RETURN(Bytes sealed, seal(key, plaintext, as_bytes(share_aad(params_.round, id_, v))));
    out.push_back({id_, v, std::move(sealed)});
    ++i;
  }
  return out;
}

StatusOr<MaskedInput> SecAggClient::mask(const std::vector<SealedShares>& received, std::span<const uint64_t> input) {
  if (self_mask_seed_.empty()) return failed_precondition_error("secure aggregation: shares not sent yet");
  if (input.size() != params_.length)
    return invalid_argument_error("secure aggregation: input of " + std::to_string(input.size()) + " words, not " +
                                  std::to_string(params_.length));
  held_.clear();
  for (const auto& s : received) {
    auto from = neighbours_.find(s.from);
    if (s.to != id_ || from == neighbours_.end())
      return invalid_argument_error("secure aggregation: client " + std::to_string(id_) + " got shares from " +
                                    std::to_string(s.from) + " to " + std::to_string(s.to) +
                                    ", not from a neighbour to it");
    ASSIGN_OR_RETURN(Bytes key, share_key(cipher_keys_.secret_key, from->second.cipher_public_key));
    ASSIGN_OR_RETURN(Bytes plaintext, open(key, s.sealed, as_bytes(share_aad(params_.round, s.from, id_))));
    ASSIGN_OR_RETURN(auto shares, unpack_two(plaintext));
    held_[s.from] = {std::move(shares.first), std::move(shares.second)};
  }
  MaskedInput out{id_, std::vector<uint64_t>(input.begin(), input.end())};
  RETURN_IF_ERROR(apply_mask(out.words, self_mask_seed_, true));
  // Pairwise masks with every neighbour that shared its keys (its shares are held here, so the
  // coordinator can remove the mask if it drops); + towards larger ids, - towards smaller.
  for (const auto& [v, shares] : held_) {
    ASSIGN_OR_RETURN(Bytes seed, pair_seed(mask_keys_.secret_key, neighbours_.at(v).mask_public_key, params_.round));
    RETURN_IF_ERROR(apply_mask(out.words, seed, id_ < v));
  }
  return out;
}

StatusOr<UnmaskShares> SecAggClient::unmask(const UnmaskRequest& request) {
  const std::set<int> survivors(request.survivors.begin(), request.survivors.end());
  const std::set<int> dropped(request.dropped.begin(), request.dropped.end());
  auto refuse = [&](const std::string& why) {
    return failed_precondition_error("secure aggregation: client " + std::to_string(id_) +
                                     " refuses to unmask: " + why);
  };
  if (!survivors.count(id_)) return refuse("the request does not count it among the survivors");
  if (static_cast<int>(survivors.size()) < params_.threshold)
    return refuse(std::to_string(survivors.size()) + " survivor(s) are fewer than the threshold " +
                  std::to_string(params_.threshold));
  for (int v : survivors)
    if (dropped.count(v)) return refuse("client " + std::to_string(v) + " is named both survivor and dropped");
  UnmaskShares out;
  out.id = id_;
  std::map<int, bool> revealing;
  for (const auto& [v, shares] : held_) {
    const bool alive = survivors.count(v) > 0, gone = dropped.count(v) > 0;
    if (!alive && !gone) continue;
    auto earlier = revealed_.find(v);
    // The rule that keeps every input hidden: the coordinator may learn v's self-mask (v survived)
    // or v's mask key (v dropped), never both, or it could unmask v's input alone.
    if (earlier != revealed_.end() && earlier->second != alive)
      return refuse("the coordinator asks for both shares of client " + std::to_string(v));
    revealing[v] = alive;
    if (alive)
      out.self_mask_shares[v] = shares.self_mask;
    else
      out.mask_key_shares[v] = shares.mask_key;
  }
  for (const auto& [v, alive] : revealing) revealed_[v] = alive;
  return out;
}

// ---- coordinator ------------------------------------------------------------------------------

SecAggServer::SecAggServer(SecAggParams params, std::vector<int> clients)
    : params_(params),
      graph_(neighbour_graph(std::move(clients),
                             params.neighbours > 0 ? params.neighbours : std::numeric_limits<int>::max(),
                             params.graph_seed)) {
  sum_.assign(params_.length, 0);
}

Status SecAggServer::check_known(int id, const char* stage) const {
  if (graph_.count(id)) return Status();
  return invalid_argument_error(std::string("secure aggregation ") + stage + ": client " + std::to_string(id) +
                                " is not in this round");
}

Status SecAggServer::add_keys(AdvertisedKeys keys) {
  RETURN_IF_ERROR(check_known(keys.id, "keys"));
  if (advertised_.count(keys.id))
    return invalid_argument_error("secure aggregation: client " + std::to_string(keys.id) + " advertised twice");
  if (keys.cipher_public_key.size() != kKeyBytes || keys.mask_public_key.size() != kKeyBytes)
    return invalid_argument_error("secure aggregation: client " + std::to_string(keys.id) +
                                  " advertised keys that are not 32 bytes");
  advertised_.insert(keys.id);
  keys_[keys.id] = std::move(keys);
  return Status();
}

std::vector<AdvertisedKeys> SecAggServer::keys_for(int id) const {
  std::vector<AdvertisedKeys> out;
  for (int v : graph_.at(id))
    if (auto k = keys_.find(v); k != keys_.end()) out.push_back(k->second);
  return out;
}

Status SecAggServer::add_shares(int from, std::vector<SealedShares> shares) {
  RETURN_IF_ERROR(check_known(from, "shares"));
  if (!advertised_.count(from) || shared_.count(from))
    return invalid_argument_error("secure aggregation: shares from client " + std::to_string(from) +
                                  (shared_.count(from) ? " came twice" : " before its keys"));
  const std::vector<int>& mine = graph_.at(from);
  std::vector<int> recipients;
  for (const auto& s : shares) {
    if (s.from != from || !std::binary_search(mine.begin(), mine.end(), s.to) || !advertised_.count(s.to))
      return invalid_argument_error("secure aggregation: client " + std::to_string(from) + " sent shares from " +
                                    std::to_string(s.from) + " to " + std::to_string(s.to) +
                                    ", not to an advertised neighbour");
    recipients.push_back(s.to);
  }
  for (auto& s : shares) inbox_[s.to].push_back(std::move(s));
  shared_with_[from] = std::move(recipients);
  shared_.insert(from);
  return Status();
}

std::vector<SealedShares> SecAggServer::shares_for(int id) const {
  auto found = inbox_.find(id);
  return found == inbox_.end() ? std::vector<SealedShares>() : found->second;
}

Status SecAggServer::add_masked_input(MaskedInput input) {
  RETURN_IF_ERROR(check_known(input.id, "masked input"));
  if (!shared_.count(input.id) || masked_ids_.count(input.id))
    return invalid_argument_error("secure aggregation: masked input of client " + std::to_string(input.id) +
                                  (masked_ids_.count(input.id) ? " came twice" : " before its shares"));
  if (input.words.size() != params_.length)
    return invalid_argument_error("secure aggregation: client " + std::to_string(input.id) + " sent " +
                                  std::to_string(input.words.size()) + " words, not " + std::to_string(params_.length));
  for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += input.words[i];
  masked_ids_.insert(input.id);
  return Status();
}

UnmaskRequest SecAggServer::unmask_request() const {
  UnmaskRequest request;
  request.survivors.assign(masked_ids_.begin(), masked_ids_.end());
  for (int id : shared_)
    if (!masked_ids_.count(id)) request.dropped.push_back(id);
  return request;
}

Status SecAggServer::add_unmask_shares(UnmaskShares shares) {
  RETURN_IF_ERROR(check_known(shares.id, "unmasking"));
  if (!masked_ids_.count(shares.id) || unmasked_.count(shares.id))
    return invalid_argument_error("secure aggregation: unmasking shares of client " + std::to_string(shares.id) +
                                  (unmasked_.count(shares.id) ? " came twice" : " which is no survivor"));
  const std::vector<int>& mine = graph_.at(shares.id);
  auto is_neighbour = [&](int v) { return std::binary_search(mine.begin(), mine.end(), v); };
  for (const auto& [v, share] : shares.self_mask_shares)
    if (!masked_ids_.count(v) || !is_neighbour(v))
      return invalid_argument_error("secure aggregation: client " + std::to_string(shares.id) +
                                    " sent a self-mask share of " + std::to_string(v) + ", no surviving neighbour");
  for (const auto& [v, share] : shares.mask_key_shares)
    if (!shared_.count(v) || masked_ids_.count(v) || !is_neighbour(v))
      return invalid_argument_error("secure aggregation: client " + std::to_string(shares.id) +
                                    " sent a mask key share of " + std::to_string(v) + ", no dropped neighbour");
  for (auto& [v, share] : shares.self_mask_shares) self_mask_shares_[v].push_back(std::move(share));
  for (auto& [v, share] : shares.mask_key_shares) mask_key_shares_[v].push_back(std::move(share));
  unmasked_.insert(shares.id);
  return Status();
}

StatusOr<std::vector<uint64_t>> SecAggServer::finish() const {
  const int t = params_.threshold;
  auto short_of = [&](int v, size_t have, const char* what) {
    return failed_precondition_error(
        "secure aggregation failed: client " + std::to_string(v) + ": " + std::to_string(have) +
        " of its neighbours answered the unmasking with a share of " + what + ", threshold " + std::to_string(t) +
        " (" + std::to_string(unmasked_.size()) + " client(s) answered in all)");
  };
  std::vector<uint64_t> result = sum_;
  for (int v : masked_ids_) {
    auto found = self_mask_shares_.find(v);
    const size_t have = found == self_mask_shares_.end() ? 0 : found->second.size();
    if (static_cast<int>(have) < t) return short_of(v, have, "its self-mask");
    ASSIGN_OR_RETURN(Bytes seed, reconstruct_secret(found->second, t, kKeyBytes));
    RETURN_IF_ERROR(apply_mask(result, seed, false));
  }
  for (int v : shared_) {
    if (masked_ids_.count(v)) continue;
    auto found = mask_key_shares_.find(v);
    const size_t have = found == mask_key_shares_.end() ? 0 : found->second.size();
    if (static_cast<int>(have) < t) return short_of(v, have, "its mask key");
    ASSIGN_OR_RETURN(Bytes secret_key, reconstruct_secret(found->second, t, kKeyBytes));
    ASSIGN_OR_RETURN(Bytes public_key, public_key_of(secret_key));
    if (public_key != keys_.at(v).mask_public_key)
      return failed_precondition_error("secure aggregation failed: the mask key of client " + std::to_string(v) +
                                       " rebuilt from its neighbours' shares does not match the key it advertised");
    // Every survivor that received v's shares masked with v: take that mask back out.
    for (int u : shared_with_.at(v)) {
      if (!masked_ids_.count(u)) continue;
      ASSIGN_OR_RETURN(Bytes seed, pair_seed(secret_key, keys_.at(u).mask_public_key, params_.round));
      RETURN_IF_ERROR(apply_mask(result, seed, /*add=*/v < u));  // u added + when u < v
    }
  }
  return result;
}

}  // namespace flotilla::secagg
