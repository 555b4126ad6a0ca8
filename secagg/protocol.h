// Secure aggregation (Bonawitz et al. 2017, "Practical Secure Aggregation for Privacy-Preserving
// Machine Learning"; SecAgg+ of Bell et al. 2020) as two state machines, one per client and one
// for the coordinator, that exchange plain messages: the transport relays them and knows nothing
// of their contents. The coordinator learns the sum of the surviving clients' vectors (in the ring
// of 64-bit words, secagg/fixed_point.h) and nothing about any one of them, as long as fewer than
// `threshold` of a client's neighbours collude with it.
//
// Stages of one round (a resumed round starts again from the first):
//   0 advertise  each client makes two X25519 key pairs, one to encrypt shares (c), one to agree
//                mask seeds (s), and sends both public keys;
//   1 share      each client picks a self-mask seed b, Shamir-shares b and its mask secret key s_sk
//                t-of-m among its m neighbours that advertised, and seals each neighbour's pair of
//                shares with AES-256-GCM under a key agreed from the c keys (the coordinator relays
//                ciphertexts it cannot read);
//   2 mask       each client sends y = x + PRG(b) + sum over its neighbours v that shared of
//                +-PRG(s_uv) (+ when u < v), s_uv agreed from the s keys: pairwise masks cancel in
//                the sum;
//   3 unmask     the coordinator names the survivors (sent y) and the dropped (shared, sent no y);
//                each client returns, per neighbour, the share of b for a survivor or the share of
//                s_sk for a dropped one, never both for the same neighbour. With t shares the
//                coordinator removes each survivor's self-mask and the dropped clients' pairwise
//                masks; the rest cancels.
// A client that drops at any stage is recovered from while every survivor and every dropped
// client that shared keeps at least t neighbours answering the unmasking; below that the round
// fails naming who is short and by how much.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "secagg/crypto.h"
#include "secagg/shamir.h"

namespace flotilla::secagg {

struct SecAggParams {
  int round = 0;            // bound into every sealed share, so that none is replayed across rounds
  int threshold = 2;        // t: shares that reconstruct a secret; >= 2
  size_t length = 0;        // words in each client's vector
  int neighbours = 0;       // k of SecAgg+; 0 or >= clients - 1: every other client (SecAgg)
  uint64_t graph_seed = 0;  // the coordinator's choice of the random graph
};

// Stage 0, client -> coordinator -> the client's neighbours.
struct AdvertisedKeys {
  int id = -1;
  Bytes cipher_public_key;
  Bytes mask_public_key;
};
// Stage 1: one sealed pair of shares, from -> (via the coordinator) -> to.
struct SealedShares {
  int from = -1;
  int to = -1;
  Bytes sealed;
};
// Stage 2, client -> coordinator.
struct MaskedInput {
  int id = -1;
  std::vector<uint64_t> words;
};
// Stage 3, coordinator -> clients.
struct UnmaskRequest {
  std::vector<int> survivors;  // sent their masked input
  std::vector<int> dropped;    // shared their keys, sent no masked input
};
// Stage 3, client -> coordinator: per neighbour, the share of its self-mask seed (survivors) or
// of its mask secret key (dropped).
struct UnmaskShares {
  int id = -1;
  std::map<int, Share> self_mask_shares;
  std::map<int, Share> mask_key_shares;
};

class SecAggClient {
 public:
  SecAggClient(int id, SecAggParams params) : id_(id), params_(params) {}

  StatusOr<AdvertisedKeys> advertise();
  // `neighbours`: the advertised keys of this client's neighbours (as the coordinator relays them).
  // FailedPrecondition when fewer than threshold of them advertised.
  StatusOr<std::vector<SealedShares>> share_keys(const std::vector<AdvertisedKeys>& neighbours);
  // `received`: the sealed shares addressed to this client; `input`: its encoded vector.
  StatusOr<MaskedInput> mask(const std::vector<SealedShares>& received, std::span<const uint64_t> input);
  // Refuses (FailedPrecondition) a request that names this client as dropped, names a client both
  // survivor and dropped, has fewer survivors than the threshold, or asks, now or after an
  // earlier request, for both of one neighbour's shares.
  StatusOr<UnmaskShares> unmask(const UnmaskRequest& request);

  int id() const { return id_; }

 private:
  int id_;
  SecAggParams params_;
  KeyPair cipher_keys_, mask_keys_;
  Bytes self_mask_seed_;
  std::map<int, AdvertisedKeys> neighbours_;  // that advertised
  struct HeldShares {
    Share mask_key;
    Share self_mask;
  };
  std::map<int, HeldShares> held_;  // neighbours' shares this client holds (they shared)
  std::map<int, bool> revealed_;    // per neighbour: true = its self-mask share went out, false = its key's
};

class SecAggServer {
 public:
  // `clients`: who takes part in the round.
  SecAggServer(SecAggParams params, std::vector<int> clients);

  const std::vector<int>& neighbours_of(int id) const { return graph_.at(id); }

  Status add_keys(AdvertisedKeys keys);
  // What `id` is sent for stage 1: its neighbours' advertised keys.
  std::vector<AdvertisedKeys> keys_for(int id) const;
  Status add_shares(int from, std::vector<SealedShares> shares);
  // What `id` is sent for stage 2: the shares addressed to it.
  std::vector<SealedShares> shares_for(int id) const;
  Status add_masked_input(MaskedInput input);
  // Stage 3's request, from what arrived so far.
  UnmaskRequest unmask_request() const;
  Status add_unmask_shares(UnmaskShares shares);
  // The sum of the survivors' inputs (mod 2^64), or FailedPrecondition naming a client that has
  // fewer than threshold shares for its secret ("client 4: 1 of its neighbours answered the
  // unmasking, threshold 2").
  StatusOr<std::vector<uint64_t>> finish() const;

  // Who is at which stage, for metrics and tests.
  const std::set<int>& advertised() const { return advertised_; }
  const std::set<int>& shared() const { return shared_; }
  const std::set<int>& masked() const { return masked_ids_; }

 private:
  Status check_known(int id, const char* stage) const;

  SecAggParams params_;
  std::map<int, std::vector<int>> graph_;
  std::map<int, AdvertisedKeys> keys_;
  std::set<int> advertised_, shared_, masked_ids_, unmasked_;
  std::map<int, std::vector<SealedShares>> inbox_;                        // by recipient
  std::map<int, std::vector<int>> shared_with_;                           // sender -> recipients it sealed shares for
  std::vector<uint64_t> sum_;                                             // of the masked inputs
  std::map<int, std::vector<Share>> self_mask_shares_, mask_key_shares_;  // by owner
};

}  // namespace flotilla::secagg
